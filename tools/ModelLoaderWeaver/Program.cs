// Build step run after the C# compiler on Pipelines.Estimators.dll.
//
// ML.NET's Model.Load reads the name of the loader assembly from a model file, loads it and registers every
// [assembly: LoadableClass(...)] attribute it carries; that attribute, its base class and the SignatureLoadModel
// delegate it names are internal to Microsoft.ML.Core, so C# cannot write them. This tool adds one such attribute
// for every class marked [MachineLearningModelLoader("SIGNATURE")], exactly as C# would have written
//     [assembly: LoadableClass(typeof(T), null, typeof(SignatureLoadModel), "T", "SIGNATURE")]
// The runtime honours it because the assembly declares [assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")].
// The class itself supplies the static Create(IHostEnvironment, object) that ML.NET's loader calls.
//
// Usage: ModelLoaderWeaver <assembly.dll> <reference directory>...
// Idempotent: an assembly that already carries an attribute for a class is left as it is.
using Mono.Cecil;

const string MarkerAttributeName = "Pipelines.MachineLearning.MachineLearningModelLoaderAttribute";
const string LoadableClassAttributeName = "Microsoft.ML.LoadableClassAttribute";
const string SignatureName = "Microsoft.ML.SignatureLoadModel";

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: ModelLoaderWeaver <assembly.dll> <reference directory>...");
    return 2;
}

var assemblyPath = Path.GetFullPath(args[0]);
using var resolver = new DefaultAssemblyResolver();
resolver.AddSearchDirectory(Path.GetDirectoryName(assemblyPath)!);
foreach (var directory in args.Skip(1).Where(Directory.Exists).Distinct()) resolver.AddSearchDirectory(directory);

var hasSymbols = File.Exists(Path.ChangeExtension(assemblyPath, ".pdb"));
var readerParameters = new ReaderParameters { AssemblyResolver = resolver, ReadWrite = true, ReadSymbols = hasSymbols, InMemory = true };
using var assembly = AssemblyDefinition.ReadAssembly(assemblyPath, readerParameters);
var module = assembly.MainModule;

var loaders = module.GetTypes()
    .Select(type => (Type: type, Marker: type.CustomAttributes.FirstOrDefault(attribute => attribute.AttributeType.FullName == MarkerAttributeName)))
    .Where(pair => pair.Marker is not null)
    .Select(pair => (pair.Type, Signature: (string)pair.Marker!.ConstructorArguments[0].Value))
    .ToList();
if (loaders.Count == 0)
{
    Console.Error.WriteLine($"ModelLoaderWeaver: no class in {assemblyPath} is marked [{MarkerAttributeName}].");
    return 1;
}

var machineLearningCore = resolver.Resolve(AssemblyNameReference.Parse("Microsoft.ML.Core"));
var loadableClass = machineLearningCore.MainModule.GetType(LoadableClassAttributeName)
    ?? throw new InvalidOperationException($"{LoadableClassAttributeName} is not in {machineLearningCore.FullName}: this ML.NET version is not supported.");
var signature = machineLearningCore.MainModule.GetType(SignatureName)
    ?? throw new InvalidOperationException($"{SignatureName} is not in {machineLearningCore.FullName}: this ML.NET version is not supported.");
// LoadableClassAttribute(Type instType, Type argType, Type sigType, string userName, params string[] loadNames)
var constructor = loadableClass.Methods.Single(method => method.IsConstructor && method.Parameters.Count == 5
    && method.Parameters[0].ParameterType.FullName == "System.Type" && method.Parameters[2].ParameterType.FullName == "System.Type"
    && method.Parameters[4].ParameterType.FullName == "System.String[]");

var typeType = module.ImportReference(typeof(Type));
var stringType = module.TypeSystem.String;
var stringArrayType = new ArrayType(stringType);
var added = 0;
foreach (var (type, loaderSignature) in loaders)
{
    var already = assembly.CustomAttributes.Any(attribute => attribute.AttributeType.FullName == LoadableClassAttributeName
        && attribute.ConstructorArguments[0].Value is TypeReference instance && instance.FullName == type.FullName);
    if (already) continue;
    var attribute = new CustomAttribute(module.ImportReference(constructor));
    attribute.ConstructorArguments.Add(new CustomAttributeArgument(typeType, type));
    attribute.ConstructorArguments.Add(new CustomAttributeArgument(typeType, null));
    attribute.ConstructorArguments.Add(new CustomAttributeArgument(typeType, module.ImportReference(signature)));
    attribute.ConstructorArguments.Add(new CustomAttributeArgument(stringType, type.Name));
    attribute.ConstructorArguments.Add(new CustomAttributeArgument(stringArrayType,
        new[] { new CustomAttributeArgument(stringType, loaderSignature) }));
    assembly.CustomAttributes.Add(attribute);
    added++;
}

if (added > 0)
{
    // Written through memory streams, not to the path: Cecil puts the PDB's file path into the DLL's debug directory,
    // and this machine's absolute path there would make the packed DLL differ between clones (reproducible builds).
    // From a stream it writes the file name only, as the compiler's PathMap intends.
    using var assemblyStream = new MemoryStream();
    using var symbolStream = new MemoryStream();
    assembly.Write(assemblyStream, new WriterParameters
    {
        WriteSymbols = hasSymbols,
        SymbolStream = hasSymbols ? symbolStream : null,
        SymbolWriterProvider = hasSymbols ? new Mono.Cecil.Cil.PortablePdbWriterProvider() : null,
        DeterministicMvid = true,
    });
    File.WriteAllBytes(assemblyPath, assemblyStream.ToArray());
    if (hasSymbols) File.WriteAllBytes(Path.ChangeExtension(assemblyPath, ".pdb"), symbolStream.ToArray());
}
Console.WriteLine($"ModelLoaderWeaver: {added} loader(s) registered, {loaders.Count - added} already present, in {Path.GetFileName(assemblyPath)}.");
return 0;
