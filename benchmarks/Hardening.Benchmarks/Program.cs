using BenchmarkDotNet.Running;

// Usage: dotnet run -c Release --project benchmarks/Hardening.Benchmarks -- --filter '*Bcrypt*'
// Every argument is passed through to BenchmarkDotNet (--filter, --job short, --list flat, ...).
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
