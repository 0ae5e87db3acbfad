// Micro-benchmarks of the engine's hot paths (issue 12). One command runs them all (ShortRun, a few minutes):
//   dotnet run -c Release --project bench/Micro -- --filter '*'
// Results: BenchmarkDotNet.Artifacts/results/*-report-github.md (copied into bench/RESULTS.md).
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun)
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(Micro.SendQueueBenchmarks).Assembly).Run(args, config);
