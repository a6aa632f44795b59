using Pipelines.Components.FaultChild;

// Usage: Pipelines.Components.FaultChild <checkpoint path>. Trains (or resumes) FaultRun to its last step; exit code 0
// when done. The kill test SIGKILLs this process at random moments, often in the middle of a checkpoint write.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Pipelines.Components.FaultChild <checkpoint path>");
    return 2;
}

FaultRun.Train(args[0]);
return 0;
