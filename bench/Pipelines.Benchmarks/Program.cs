using Pipelines.Benchmarks;

// Dispatcher: the first argument names the benchmark, the rest are its options.
//   gemm    square C = A·B GFLOP/s for n = 256, 512, 1024 with 1 and 2 threads
//   linear  Linear forward/backward GFLOP/s on the training benchmark's shapes
//   train   end-to-end GPT training throughput on the reference configuration (--profile: where the time goes)
//   lora    a LoRA fine-tuning step (rank 8, every projection of every layer) against a full step, alternating rounds, median ratio
//   plot-scaling  the scaling sweep's median table and figures from bench/scaling.sh's raw CSV (--csv file --out dir)
//   dp      one DP-SGD step (batched ghost-norm clipping) vs one plain step on a small GPT (--per-example: also one pass per example)
// Every benchmark takes --threads t... and --repetitions r; --cpu times with process CPU time (tuning aid).
var command = args.Length > 0 ? args[0] : "";
Timing.UseCpuTime = args.Contains("--cpu");
var options = args.Skip(1).ToArray();
switch (command)
{
    case "gemm":
        GemmBenchmark.Run(options);
        break;
    case "linear":
        LinearBenchmark.Run(options);
        break;
    case "train":
        TrainingBenchmark.Run(options);
        break;
    case "lora":
        LoraStepBenchmark.Run(options);
        break;
    case "plot-scaling":
        ScalingPlot.Run(options);
        break;
    case "dp":
        DpStepBenchmark.Run(options);
        break;
    default:
        Console.Error.WriteLine("usage: Pipelines.Benchmarks <gemm|linear|train|lora|dp|plot-scaling> [options]");
        Environment.ExitCode = 2;
        break;
}
