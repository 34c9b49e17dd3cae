using BenchmarkDotNet.Running;

// Runs the benchmarks the arguments select, e.g. `--filter '*' --job short`; see bench/micro.sh.
BenchmarkSwitcher.FromAssembly(typeof(Shoal.Benchmarks.PieceHashingBenchmarks).Assembly).Run(args);
