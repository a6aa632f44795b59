// Loaded first by every experiment (#load "prelude.fsx"): references the built assemblies.
//
// Build once, in either configuration:   dotnet build src/Scripts -c Release
// The Scripts project copies its assembly and every dependency to src/Scripts/bin/fsi/ after each build (the
// last build wins), so this one stable path serves Release and Debug alike; the linux-x64 native libraries
// (SkiaSharp's, for PNG) lie flat beside the assemblies, where the runtime looks for them. No "#r nuget:":
// nothing is downloaded when a script runs.

#r "../bin/fsi/System.Numerics.Tensors.dll"
#r "../bin/fsi/MathNet.Numerics.dll"
#r "../bin/fsi/CsvHelper.dll"
#r "../bin/fsi/Microsoft.Extensions.Logging.Abstractions.dll"
#r "../bin/fsi/Newtonsoft.Json.dll"
#r "../bin/fsi/System.CodeDom.dll"
#r "../bin/fsi/Microsoft.ML.Core.dll"
#r "../bin/fsi/Microsoft.ML.DataView.dll"
#r "../bin/fsi/Microsoft.ML.Data.dll"
#r "../bin/fsi/Microsoft.ML.CpuMath.dll"
#r "../bin/fsi/Microsoft.ML.Transforms.dll"
#r "../bin/fsi/Microsoft.ML.StandardTrainers.dll"
#r "../bin/fsi/Microsoft.ML.Tokenizers.dll"
#r "../bin/fsi/Deedle.dll"
#r "../bin/fsi/SkiaSharp.dll"
#r "../bin/fsi/HarfBuzzSharp.dll"
#r "../bin/fsi/SkiaSharp.HarfBuzz.dll"
#r "../bin/fsi/ScottPlot.dll"
#r "../bin/fsi/Pipelines.Components.dll"
#r "../bin/fsi/Pipelines.Estimators.dll"
#r "../bin/fsi/Pipelines.Experiments.dll"
#r "../bin/fsi/Pipelines.Scripts.dll"

// Scripts run with the invariant culture so numbers in logs and files read the same everywhere.
System.Globalization.CultureInfo.DefaultThreadCurrentCulture <- System.Globalization.CultureInfo.InvariantCulture
System.Globalization.CultureInfo.CurrentCulture <- System.Globalization.CultureInfo.InvariantCulture
