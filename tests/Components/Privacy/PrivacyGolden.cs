using System.Text.Json;

namespace Pipelines.Components.Tests.Privacy;

/// <summary>Values written by <c>Fixtures/make_privacy_golden.py</c> (standard-library Python) into <c>Fixtures/privacy_golden.json</c>.</summary>
internal static class PrivacyGolden
{
    private static readonly Lazy<JsonElement> Root = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "privacy_golden.json"))).RootElement);

    public static IEnumerable<JsonElement> Cases(string name) => Root.Value.GetProperty(name).EnumerateArray();

    public static JsonElement Section(string name) => Root.Value.GetProperty(name);

    public static double Number(this JsonElement element, string name) => element.GetProperty(name).GetDouble();
}
