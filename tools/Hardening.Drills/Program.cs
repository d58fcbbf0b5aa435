using Hardening.Drills;

// ./build.sh drill <name> [--instances N] [--redis single|cluster] [--quick] [...]; exit code 0 = nothing lost,
// duplicated or crossed tenants; 1 = the drill found a violation; 2 = bad arguments or the topology did not start.
return await DrillCommand.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
