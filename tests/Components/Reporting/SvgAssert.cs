using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Pipelines.Components.Tests.Reporting;

/// <summary>Checks shared by the SVG writer tests.</summary>
internal static partial class SvgAssert
{
    public static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>Parses the document (failing if it is not well-formed XML) and checks its root.</summary>
    public static XDocument Parse(string svg)
    {
        var document = XDocument.Parse(svg);
        Assert.AreEqual(Svg + "svg", document.Root!.Name);
        return document;
    }

    public static IEnumerable<XElement> WithClass(XDocument document, string cssClass) =>
        document.Descendants().Where(element => (string?)element.Attribute("class") is { } classes && classes.Split(' ').Contains(cssClass));

    /// <summary>Every coordinate attribute and path point lies within the viewBox; every number is invariant.</summary>
    public static void CoordinatesInsideViewBox(XDocument document)
    {
        var viewBox = ((string)document.Root!.Attribute("viewBox")!).Split(' ').Select(part => double.Parse(part, CultureInfo.InvariantCulture)).ToArray();
        var (width, height) = (viewBox[2], viewBox[3]);
        foreach (var element in document.Descendants())
        {
            foreach (var name in new[] { "x", "x1", "x2", "cx" }) CheckRange(element, name, 0, width);
            foreach (var name in new[] { "y", "y1", "y2", "cy" }) CheckRange(element, name, 0, height);
            if (element.Name.LocalName == "rect" && element.Attribute("x") is not null)
            {
                Assert.IsLessThanOrEqualTo(width + 1e-9, Number(element, "x") + Number(element, "width"), $"rect right edge: {element}");
                Assert.IsLessThanOrEqualTo(height + 1e-9, Number(element, "y") + Number(element, "height"), $"rect bottom edge: {element}");
            }

            if (element.Name.LocalName == "path")
            {
                var numbers = PathNumber().Matches((string)element.Attribute("d")!).Select(match => double.Parse(match.Value, CultureInfo.InvariantCulture)).ToArray();
                Assert.AreEqual(0, numbers.Length % 2);
                for (var index = 0; index < numbers.Length; index += 2)
                {
                    Assert.IsTrue(numbers[index] >= 0 && numbers[index] <= width, $"path x {numbers[index]}");
                    Assert.IsTrue(numbers[index + 1] >= 0 && numbers[index + 1] <= height, $"path y {numbers[index + 1]}");
                }
            }
        }
    }

    private static void CheckRange(XElement element, string attribute, double low, double high)
    {
        if (element.Attribute(attribute) is null) return;
        var value = Number(element, attribute);
        Assert.IsTrue(value >= low && value <= high, $"{attribute} = {value} outside [{low}, {high}] in {element}");
    }

    private static double Number(XElement element, string attribute) =>
        double.Parse((string)element.Attribute(attribute)!, NumberStyles.Float, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"-?\d+(\.\d+)?")]
    private static partial Regex PathNumber();
}
