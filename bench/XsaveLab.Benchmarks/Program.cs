// Benchmarks are found by reflection: dotnet run -c Release -- --filter '*Uabi*'
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(XsaveLab.Benchmarks.Uabi.UabiBenchmarks).Assembly).Run(args);
