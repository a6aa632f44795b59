// Prints the hashes ParallelStepTests.SequentialBitsAreUnchanged pins: FNV-1a of the weights and the optimizer state after
// 40 sequential steps of each alias of OptimizerCases, on the arena of ParallelStepTests.MakeArena. The pins were made with
// the Pipelines.Components.dll of commit 7395038 (before the step ran in chunks):
//   dotnet fsi make_optimizer_pins.fsx   (with the #r line below pointing at that build)
#r "/tmp/optbench/before/Pipelines.Components.dll"
open System
open System.IO
open Pipelines.Components.Optimization
open Pipelines.Components.Schedules
open Pipelines.Components.Tensors

let makeArena () =
    let builder = ParameterArenaBuilder()
    builder.Add("embedding.weight", ParameterRole.LinearWeight, 310, 100) |> ignore
    builder.Add("norm.weight", ParameterRole.LinearBias, 7) |> ignore
    builder.Add("frozen.weight", ParameterRole.LinearWeight, 40, 50) |> ignore
    builder.Add("block.weight", ParameterRole.LinearWeight, 181, 89) |> ignore
    builder.Add("block.bias", ParameterRole.LinearBias, 89) |> ignore
    builder.Add("scalar", ParameterRole.LinearBias, 1) |> ignore
    let arena = builder.Build()
    let random = Random(11)
    for slice in arena.Parameters do
        let values = arena.Values
        for index in slice.Offset .. slice.Offset + slice.Length - 1 do
            arena.Values.[index] <- float32 (random.NextDouble() - 0.5)
    arena

let focus (rate: ISchedule) placement = Optimizers.Focus(FocusOptions(rate, WeightDecay = 0.01, Placement = placement))
let cases : (string * (ISchedule -> IGradientTransform)) list = [
    "Sgd", (fun rate -> Optimizers.Sgd(SgdOptions(rate)))
    "SgdMomentum", (fun rate -> Optimizers.Sgd(SgdOptions(rate, Momentum = 0.9)))
    "SgdNesterov", (fun rate -> Optimizers.Sgd(SgdOptions(rate, Momentum = 0.9, Nesterov = true)))
    "AdamW", (fun rate -> Optimizers.AdamW(AdamWOptions(rate)))
    "AdamWClipped", (fun rate -> Optimizers.AdamW(AdamWOptions(rate, ClipNorm = 1.0)))
    "Signum", (fun rate -> Optimizers.Signum(SignumOptions(rate, WeightDecay = 0.01)))
    "FocusBefore", (fun rate -> focus rate FocusWeightDecayPlacement.TowardEmaBeforeStep)
    "FocusAfter", (fun rate -> focus rate FocusWeightDecayPlacement.TowardEmaAfterStep)
    "FocusPlain", (fun rate -> focus rate FocusWeightDecayPlacement.Plain) ]

for (name, make) in cases do
    let arena = makeArena ()
    let optimizer = GradientTransformOptimizer(make (ConstantSchedule(0.01)), arena)
    for step in 0 .. 39 do
        arena.ZeroGradients()
        let random = Random(1000 + step)
        for slice in arena.Parameters do
            for index in slice.Offset .. slice.Offset + slice.Length - 1 do
                arena.Gradients.[index] <- float32 (float arena.Values.[index] * 0.5 + (random.NextDouble() - 0.5))
        optimizer.Step(arena)
    let stream = new MemoryStream()
    (use writer = new BinaryWriter(stream)
     optimizer.SaveState(writer))
    let mutable hash = 14695981039346656037UL
    for value in arena.Values.ToArray() do
        let bits = BitConverter.SingleToInt32Bits(value)
        for shift in [0; 8; 16; 24] do
            hash <- (hash ^^^ uint64 (byte (bits >>> shift))) * 1099511628211UL
    for b in stream.ToArray() do
        hash <- (hash ^^^ uint64 b) * 1099511628211UL
    printfn "%s %dUL" name hash
