// The RDP and the PRV accountants on the same DP-SGD histories: the noise samples/PrivateFineTune calibrates (RDP) for
// epsilon 1, 3 and 8 at q = 64 / 1,600 over 100 steps, delta 1e-5, and the epsilon each accountant then reports.
// The PRV accountant (Gopi et al. 2021, arXiv 2106.02848) is the tighter; its upper bound is the guarantee.
//
//   dotnet build src/Scripts -c Release
//   dotnet fsi src/Scripts/experiments/prv_vs_rdp.fsx        (about 20 seconds)

#load "prelude.fsx"

open Pipelines.Components.Privacy

let delta, samplingRate, steps = 1e-5, 64.0 / 1600.0, 100L
for target in [ 1.0; 3.0; 8.0 ] do
    let sigma = NoiseCalibration.NoiseMultiplier(target, delta, samplingRate, steps)
    let history = [| PrivacyPhase(sigma, samplingRate, steps) |]
    let rdp = RdpAccountant(history).GetEpsilon(delta)
    let prv = PrvAccountant.Epsilon(history, delta)
    printfn "target %g: sigma %.4f | RDP epsilon %.3f | PRV epsilon %.3f (estimate %.3f, lower %.3f)" target sigma rdp prv.Upper prv.Estimate prv.Lower
