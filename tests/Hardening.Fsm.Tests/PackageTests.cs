namespace Hardening.Fsm.Tests;

/// <summary>The conventions every package keeps (<see cref="PackageConventionTests"/>); the public API itself is checked by PublicApiAnalyzers at build time.</summary>
public sealed class PackageTests() : PackageConventionTests("Hardening.Fsm");
