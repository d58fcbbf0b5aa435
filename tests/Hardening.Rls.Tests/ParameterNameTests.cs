using System.Reflection;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Rls.Tests;

/// <summary>
/// Bad input to any public entry point fails with an ArgumentException whose ParamName is a parameter of the member
/// that was called (found by reflection), or, for <see cref="TenantSchema.GenerateMigration"/>, which has none, the
/// property that holds the bad value (or the References parameter that brought in an undeclared table).
/// </summary>
public sealed class ParameterNameTests
{
    private static readonly string[] BadNames = ["", "Jobs", "1jobs", "jobs; DROP TABLE x", "a b", "x'--", "\"q\"", "é", new string('a', 64)];
    private static readonly string[] BadSettings = ["", "tenant", "app.tenant.id", "app.tenant id", "1app.x", "app.x'--", ".x"];

    public sealed record Case(string Entry, string Bad);

    private static readonly Dictionary<string, (Func<string, object?> Call, Func<string[]> Names)> Entries = new(StringComparer.Ordinal)
    {
        ["TenantSchema(appRole)"] = (b => new TenantSchema(b), () => Ctor(typeof(TenantSchema))),
        ["Table(name)"] = (b => new TenantSchema("ats_app").Table(b), () => Params(typeof(TenantSchema), nameof(TenantSchema.Table))),
        ["View(name)"] = (b => new TenantSchema("ats_app").View(b), () => Params(typeof(TenantSchema), nameof(TenantSchema.View))),
        ["Unique(columns)"] = (b => new TenantSchema("ats_app").Table("t", t => t.Unique("a", b)), () => Params(typeof(TenantTable), nameof(TenantTable.Unique))),
        ["References(column)"] = (b => new TenantSchema("ats_app").Table("t", t => t.References(b, "t")), () => Params(typeof(TenantTable), nameof(TenantTable.References))),
        ["References(targetTable)"] = (b => new TenantSchema("ats_app").Table("t", t => t.References("c", b)), () => Params(typeof(TenantTable), nameof(TenantTable.References))),
        ["References(targetColumn)"] = (b => new TenantSchema("ats_app").Table("t", t => t.References("c", "t", b)), () => Params(typeof(TenantTable), nameof(TenantTable.References))),
        ["Partitions(partitions)"] = (b => new TenantSchema("ats_app").Table("t", t => t.Partitions(b)), () => Params(typeof(TenantTable), nameof(TenantTable.Partitions))),
        ["GenerateMigration(Schema)"] = (b => new TenantSchema("ats_app") { Schema = b }.Table("t").GenerateMigration(), Props),
        ["GenerateMigration(TenantColumn)"] = (b => new TenantSchema("ats_app") { TenantColumn = b }.Table("t").GenerateMigration(), Props),
        ["GenerateMigration(HelperFunction)"] = (b => new TenantSchema("ats_app") { HelperFunction = b }.Table("t").GenerateMigration(), Props),
        ["GenerateMigration(PolicyName)"] = (b => new TenantSchema("ats_app") { PolicyName = b }.Table("t").GenerateMigration(), Props),
        // Known only once the model is complete: named after the References parameter that brought the bad table in.
        ["GenerateMigration(reference)"] = (b => new TenantSchema("ats_app").Table("t", t => t.References("c", "missing")).GenerateMigration(), () => Params(typeof(TenantTable), nameof(TenantTable.References))),
        ["RlsLinter(TenantColumn)"] = (b => new RlsLinter(new RlsLintOptions { TenantColumn = b }), () => Ctor(typeof(RlsLinter))),
        ["RlsLinter(AppRole)"] = (b => new RlsLinter(new RlsLintOptions { AppRole = b }), () => Ctor(typeof(RlsLinter))),
        ["RlsLinter(Schemas)"] = (b => new RlsLinter(new RlsLintOptions { Schemas = { b } }), () => Ctor(typeof(RlsLinter))),
        ["TenantDataSource(TenantSetting)"] = (b => WithDataSource(ds => new TenantDataSource(ds, new TenantDataSourceOptions { TenantSetting = b })), () => Ctor(typeof(TenantDataSource))),
        ["TenantDataSource(UserSetting)"] = (b => WithDataSource(ds => new TenantDataSource(ds, new TenantDataSourceOptions { UserSetting = b })), () => Ctor(typeof(TenantDataSource))),
        ["OpenSessionAsync(settings)"] = (b => WithDataSource(ds => new TenantDataSource(ds).OpenSessionAsync(new TenantContext("t"), [new(b, "v")]).AsTask().GetAwaiter().GetResult()), () => Params(typeof(TenantDataSource), nameof(TenantDataSource.OpenSessionAsync))),
        ["OpenSessionAsync(bindingSetting)"] = (b => WithDataSource(ds => new TenantDataSource(ds).OpenSessionAsync(new TenantContext("t"), [new("app.actor_id", "v")], b).AsTask().GetAwaiter().GetResult()), () => Params(typeof(TenantDataSource), nameof(TenantDataSource.OpenSessionAsync))),
        ["OpenSessionAsync(tenant)"] = (b => WithDataSource(ds => new TenantDataSource(ds, new TenantDataSourceOptions { MaxValueLength = 8 }).OpenSessionAsync(new TenantContext("t", userId: b + "\0" + new string('x', 9))).AsTask().GetAwaiter().GetResult()), () => Params(typeof(TenantDataSource), nameof(TenantDataSource.OpenSessionAsync))),
    };

    public static class Cases
    {
        public static Arbitrary<Case> Arbitrary() =>
            (from entry in Gen.Elements(Entries.Keys.ToArray())
             from bad in Gen.Elements(entry.Contains("Setting", StringComparison.Ordinal) ? BadSettings : BadNames)
             select new Case(entry, bad)).ToArbitrary();
    }

    [Property(MaxTest = 150, Arbitrary = [typeof(Cases)])]
    public void Bad_input_names_a_real_parameter(Case c)
    {
        var (call, names) = Entries[c.Entry];
        var e = Assert.ThrowsAny<ArgumentException>(() => call(c.Bad));
        Assert.True(names().Contains(e.ParamName), $"{c.Entry} with '{c.Bad}': ParamName '{e.ParamName}' is not one of [{string.Join(", ", names())}] ({e.Message})");
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    private static string[] Ctor(Type type) => [.. type.GetConstructors().SelectMany(c => c.GetParameters()).Select(p => p.Name!)];

    private static string[] Params(Type type, string method) => [.. type.GetMethods().Where(m => m.Name == method).SelectMany(m => m.GetParameters()).Select(p => p.Name!)];

    private static string[] Props() => [.. typeof(TenantSchema).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name)];

    private static object? WithDataSource(Func<NpgsqlDataSource, object?> use)
    {
        using var ds = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Timeout=1");
        return use(ds);
    }
}
