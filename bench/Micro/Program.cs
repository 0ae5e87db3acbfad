// Micro-benchmarks of the engine's hot paths (issue 12). One command runs them all (ShortRun, a few minutes):
//   dotnet run -c Release --project bench/Micro -- --filter '*'
// Results: BenchmarkDotNet.Artifacts/results/*-report-github.md (copied into bench/RESULTS.md).
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// With --inProcess (a loaded machine, where building each benchmark's own executable times out) only the in-process job runs.
var config = DefaultConfig.Instance
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.JoinSummary);
if (!args.Contains("--inProcess", StringComparer.OrdinalIgnoreCase))
{
    config = config.AddJob(Job.ShortRun);
}

BenchmarkSwitcher.FromAssembly(typeof(Micro.SendQueueBenchmarks).Assembly).Run(args, config);
