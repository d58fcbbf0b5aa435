using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Rls.Tests.Context;

/// <summary>
/// Every refusal of <see cref="TenantDataSource"/> with its whole message (written out here), the limits at their
/// edges, and the extra settings and their binding as the server holds them (the binding is recomputed by
/// PostgreSQL's own <c>format</c> in the same transaction).
/// </summary>
public sealed class TenantDataSourceCheckTests(AppRoleDatabaseFixture fixture) : IClassFixture<AppRoleDatabaseFixture>
{
    private const string SettingFix = "use letters, digits and '_' with exactly one '.' such as 'app.tenant_id'";

    // Port 1: nothing listens; refusals must come before any connection is opened.
    private static readonly NpgsqlDataSource Nowhere = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Timeout=1");

    [Fact]
    public void A_null_data_source_is_refused_by_name() =>
        Assert.Equal("dataSource", Assert.Throws<ArgumentNullException>(() => new TenantDataSource(null!)).ParamName);

    [Theory]
    [InlineData("TenantSetting", "Setting name 'tenant' (tenant (TenantDataSourceOptions.TenantSetting)) is not a valid PostgreSQL custom setting: it needs exactly one '.'; " + SettingFix + ". (Parameter 'options')")]
    [InlineData("UserSetting", "Setting name 'tenant' (user (TenantDataSourceOptions.UserSetting)) is not a valid PostgreSQL custom setting: it needs exactly one '.'; " + SettingFix + ". (Parameter 'options')")]
    [InlineData("RolesSetting", "Setting name 'tenant' (roles (TenantDataSourceOptions.RolesSetting)) is not a valid PostgreSQL custom setting: it needs exactly one '.'; " + SettingFix + ". (Parameter 'options')")]
    public void Each_bad_setting_name_is_refused_naming_its_option(string option, string expected)
    {
        var options = new TenantDataSourceOptions();
        typeof(TenantDataSourceOptions).GetProperty(option)!.SetValue(options, "tenant");
        Assert.Equal(expected, Assert.Throws<ArgumentException>(() => new TenantDataSource(Nowhere, options)).Message);
    }

    [Fact]
    public void Repeated_setting_names_are_refused_with_all_three_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new TenantDataSource(Nowhere, new TenantDataSourceOptions { RolesSetting = "App.User_Id" }));
        Assert.Equal("The tenant, user and roles settings must be three different names (got 'app.tenant_id', 'app.user_id', 'App.User_Id'; PostgreSQL setting names ignore case). (Parameter 'options')", e.Message);
    }

    [Theory]
    [InlineData("MaxValueLength", 0, false)]
    [InlineData("MaxValueLength", 1, true)]
    [InlineData("MaxValueLength", 8192, true)]
    [InlineData("MaxValueLength", 8193, false)]
    [InlineData("MaxValueLength", -5, false)]
    [InlineData("MaxRoles", -1, false)]
    [InlineData("MaxRoles", 0, true)]
    [InlineData("MaxRoles", 1024, true)]
    [InlineData("MaxRoles", 1025, false)]
    public void Limits_are_accepted_only_in_their_range(string option, int value, bool accepted)
    {
        var options = option == "MaxRoles" ? new TenantDataSourceOptions { MaxRoles = value } : new TenantDataSourceOptions { MaxValueLength = value };
        if (accepted)
        {
            _ = new TenantDataSource(Nowhere, options);
            return;
        }

        var range = option == "MaxRoles" ? "between 0 and 1024" : "between 1 and 8192";
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TenantDataSource(Nowhere, options));
        Assert.Equal("options", e.ParamName);
        Assert.Equal(value, e.ActualValue);
        Assert.StartsWith($"TenantDataSourceOptions.{option} must be {range}. (Parameter 'options')", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Context_values_are_refused_with_the_value_named()
    {
        var tenantDb = new TenantDataSource(Nowhere, new TenantDataSourceOptions { MaxValueLength = 8, MaxRoles = 2 });
        async Task<string> RefusedAsync(ITenantContext tenant) =>
            (await Assert.ThrowsAsync<ArgumentException>(async () => await tenantDb.OpenSessionAsync(tenant))).Message;

        Assert.Equal("The tenant id is 9 characters long; the limit is 8 (TenantDataSourceOptions.MaxValueLength). (Parameter 'tenant')", await RefusedAsync(new TenantContext("123456789")));
        Assert.Equal("The user id is 9 characters long; the limit is 8 (TenantDataSourceOptions.MaxValueLength). (Parameter 'tenant')", await RefusedAsync(new TenantContext("t", "123456789")));
        Assert.Equal("The role is 9 characters long; the limit is 8 (TenantDataSourceOptions.MaxValueLength). (Parameter 'tenant')", await RefusedAsync(new TenantContext("t", roles: ["123456789"])));
        Assert.Equal("The context has 3 roles; the limit is 2 (TenantDataSourceOptions.MaxRoles). (Parameter 'tenant')", await RefusedAsync(new TenantContext("t", roles: ["a", "b", "c"])));
        Assert.Equal("A role in the tenant context is null or empty. (Parameter 'tenant')", await RefusedAsync(new TenantContext("t", roles: ["a", ""])));
        Assert.Equal("A role in the tenant context is null or empty. (Parameter 'tenant')", await RefusedAsync(new TenantContext("t", roles: [null!])));
        Assert.Equal("The role 'a,b' contains ',', which separates roles in the roles setting. (Parameter 'tenant')", await RefusedAsync(new TenantContext("t", roles: ["a,b"])));
    }

    [Fact]
    public async Task A_missing_tenant_fails_closed_with_the_default_message()
    {
        var tenantDb = new TenantDataSource(Nowhere);
        var e = await Assert.ThrowsAsync<MissingTenantException>(async () => await tenantDb.OpenSessionAsync(new Context("", null, [])));
        Assert.Equal("No tenant is set: tenant-scoped database work needs an ITenantContext with a TenantId (from the authenticated tenant claim or an explicit TenantContext).", e.Message);
        Assert.Equal("A TenantContext needs a non-empty tenant id.", Assert.Throws<MissingTenantException>(() => new TenantContext(null!)).Message);
        Assert.Equal("tenant", Assert.Throws<ArgumentNullException>(() => tenantDb.OpenSessionAsync(null!).AsTask().GetAwaiter().GetResult()).ParamName);
    }

    [Fact]
    public void A_TenantContext_without_roles_has_an_empty_list_not_null()
    {
        var context = new TenantContext("t");
        Assert.NotNull(context.Roles);
        Assert.Empty(context.Roles);
        Assert.Null(context.UserId);
        Assert.Equal("t", context.TenantId);
    }

    [Fact]
    public async Task At_the_limits_the_values_arrive_intact_and_no_user_or_roles_arrive_as_empty_strings()
    {
        await using var app = AtsDatabase.AppDataSource(fixture.Server, fixture.Database);
        var tenantDb = new TenantDataSource(app, new TenantDataSourceOptions { MaxValueLength = 8, MaxRoles = 2 });

        // A context of its own whose UserId and Roles are null (the interface allows it).
        Assert.Equal("12345678||", await SettingsAsync(tenantDb, new Context("12345678", null, null)));
        Assert.Equal("t|12345678|r1,r2", await SettingsAsync(tenantDb, new Context("t", "12345678", ["r1", "r2"])));
        Assert.Equal("t||", await SettingsAsync(tenantDb, new TenantContext("t")));
        Assert.Equal("t|u|", await SettingsAsync(tenantDb, new TenantContext("t", "u", [])));
    }

    [Fact]
    public async Task Extra_settings_and_their_binding_arrive_as_postgresql_computes_them()
    {
        await using var app = AtsDatabase.AppDataSource(fixture.Server, fixture.Database);
        var tenantDb = new TenantDataSource(app);
        KeyValuePair<string, string>[] settings = [new("x.actor", "user:7"), new("x.reason", "it's \"quoted\""), new("x.empty", "")];
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext("t1", "u1", ["a"]), settings, "x.binding");
        await session.BeginTransactionAsync();
        await using var cmd = session.CreateCommand("""
            SELECT concat_ws('|', current_setting('app.tenant_id'), current_setting('app.user_id'), current_setting('app.roles'),
                   current_setting('x.actor'), current_setting('x.reason'), current_setting('x.empty'),
                   current_setting('x.binding') = format('%s %L %L %L', pg_current_xact_id(), current_setting('x.actor'), current_setting('x.reason'), current_setting('x.empty')))
            """);
        Assert.Equal("t1|u1|a|user:7|it's \"quoted\"||t", await session.ExecuteScalarAsync(cmd));
        await session.CommitAsync();

        // Without a binding setting, none is set; the extras still arrive (outside a transaction too).
        await using var plain = await tenantDb.OpenSessionAsync(new TenantContext("t2"), [new("x.actor", "job")]);
        await using var read = plain.CreateCommand("SELECT current_setting('x.actor') || '|' || coalesce(current_setting('x.binding', true), '')");
        Assert.Equal("job|", await plain.ExecuteScalarAsync(read));
    }

    [Fact]
    public async Task Sixty_four_extra_settings_are_accepted_and_the_sixty_fifth_is_refused()
    {
        await using var app = AtsDatabase.AppDataSource(fixture.Server, fixture.Database);
        var tenantDb = new TenantDataSource(app);
        var many = Enumerable.Range(1, 64).Select(i => new KeyValuePair<string, string>($"x.s{i}", $"v{i}")).ToArray();
        await using (var session = await tenantDb.OpenSessionAsync(new TenantContext("t"), many))
        {
            await using var cmd = session.CreateCommand("SELECT current_setting('x.s1') || current_setting('x.s64')");
            Assert.Equal("v1v64", await session.ExecuteScalarAsync(cmd));
        }

        var e = await Assert.ThrowsAsync<ArgumentException>(async () => await tenantDb.OpenSessionAsync(new TenantContext("t"), [.. many, new("x.s65", "v")]));
        Assert.Equal("More than 64 extra settings; a session context carries a handful. (Parameter 'settings')", e.Message);
    }

    [Fact]
    public async Task Bad_extra_settings_are_refused_with_the_setting_named()
    {
        var tenantDb = new TenantDataSource(Nowhere, new TenantDataSourceOptions { MaxValueLength = 4 });
        var t = new TenantContext("t");
        async Task<ArgumentException> RefusedAsync(IEnumerable<KeyValuePair<string, string>> settings, string? binding = null) =>
            await Assert.ThrowsAsync<ArgumentException>(async () => await tenantDb.OpenSessionAsync(t, settings, binding));

        Assert.Equal("settings", (await Assert.ThrowsAsync<ArgumentNullException>(async () => await tenantDb.OpenSessionAsync(t, null!))).ParamName);
        Assert.Equal("Setting name 'nodot' (extra session) is not a valid PostgreSQL custom setting: it needs exactly one '.'; " + SettingFix + ". (Parameter 'settings')",
            (await RefusedAsync([new("nodot", "v")])).Message);
        Assert.Equal("Setting 'APP.Tenant_ID' is set twice in the session context (PostgreSQL setting names ignore case); give each setting once and not the tenant, user or roles setting. (Parameter 'settings')",
            (await RefusedAsync([new("APP.Tenant_ID", "v")])).Message);
        Assert.Equal("Setting 'x.B' is set twice in the session context (PostgreSQL setting names ignore case); give each setting once and not the tenant, user or roles setting. (Parameter 'settings')",
            (await RefusedAsync([new("x.b", "1"), new("x.B", "2")])).Message);
        Assert.Equal("The value of setting 'x.a' is null; pass \"\" for an empty setting. (Parameter 'settings')",
            (await RefusedAsync([new("x.a", null!)])).Message);
        Assert.Equal("The value of setting 'x.a' is 5 characters long; the limit is 4 (TenantDataSourceOptions.MaxValueLength). (Parameter 'settings')",
            (await RefusedAsync([new("x.a", "12345")])).Message);
        Assert.Equal("The value of setting 'x.a' contains a NUL character at index 1; PostgreSQL text cannot hold NUL, so the value would not arrive intact. (Parameter 'settings')",
            (await RefusedAsync([new("x.a", "a\0")])).Message);

        Assert.Equal("Setting name 'bind' (binding) is not a valid PostgreSQL custom setting: it needs exactly one '.'; " + SettingFix + ". (Parameter 'bindingSetting')",
            (await RefusedAsync([new("x.a", "1")], "bind")).Message);
        Assert.Equal("The binding setting 'X.A' is also one of the settings it binds; use a setting of its own such as 'app.context_binding'. (Parameter 'bindingSetting')",
            (await RefusedAsync([new("x.a", "1")], "X.A")).Message);
        Assert.Equal("The binding setting 'app.roles' is also one of the settings it binds; use a setting of its own such as 'app.context_binding'. (Parameter 'bindingSetting')",
            (await RefusedAsync([new("x.a", "1")], "app.roles")).Message);
        Assert.Equal("A binding setting needs at least one setting to bind; pass the settings it covers. (Parameter 'bindingSetting')",
            (await RefusedAsync([], "x.binding")).Message);
    }

    /// <summary>
    /// Any tenant, user and roles within the limits arrive exactly as given (read back by PostgreSQL's
    /// <c>current_setting</c>); any beyond a limit are refused. The oracle is the server's own view of the values.
    /// </summary>
    [Property(MaxTest = 100)]
    public Property Values_within_the_limits_arrive_exactly_and_values_beyond_them_are_refused() =>
        Prop.ForAll(Contexts().ToArbitrary(), c => CheckAsync(c).GetAwaiter().GetResult());

    private static Gen<(string Tenant, string User, string[] Roles)> Contexts()
    {
        var chars = Gen.Elements("ab9 _-.'\"$\\é€😀".Where(ch => !char.IsSurrogate(ch)).Select(ch => ch.ToString()).Append("😀").ToArray());
        var value = Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(chars, n)).Select(parts => string.Concat(parts));
        return from tenant in value.Where(v => v.Length > 0)
               from user in value
               from n in Gen.Choose(0, 4)
               from roles in Gen.ArrayOf(value.Where(v => v.Length > 0), n)
               select (tenant, user, roles);
    }

    private async Task<bool> CheckAsync((string Tenant, string User, string[] Roles) c)
    {
        await using var app = AtsDatabase.AppDataSource(fixture.Server, fixture.Database);
        var tenantDb = new TenantDataSource(app, new TenantDataSourceOptions { MaxValueLength = 8, MaxRoles = 3 });
        var tooLong = c.Tenant.Length > 8 || c.User.Length > 8 || c.Roles.Any(r => r.Length > 8);
        var refused = tooLong || c.Roles.Length > 3;
        var context = new TenantContext(c.Tenant, c.User, c.Roles);
        if (refused)
        {
            await Assert.ThrowsAsync<ArgumentException>(async () => await tenantDb.OpenSessionAsync(context));
            return true;
        }

        await using var session = await tenantDb.OpenSessionAsync(context);
        await using var cmd = session.CreateCommand("SELECT ARRAY[current_setting('app.tenant_id'), current_setting('app.user_id'), current_setting('app.roles')]");
        var seen = (string[])(await session.ExecuteScalarAsync(cmd))!;
        Assert.Equal([c.Tenant, c.User, string.Join(',', c.Roles)], seen);
        return true;
    }

    private static async Task<string> SettingsAsync(TenantDataSource tenantDb, ITenantContext context)
    {
        await using var session = await tenantDb.OpenSessionAsync(context);
        await using var cmd = session.CreateCommand("SELECT current_setting('app.tenant_id') || '|' || current_setting('app.user_id') || '|' || current_setting('app.roles')");
        return (string)(await session.ExecuteScalarAsync(cmd))!;
    }

    private sealed class Context(string? tenantId, string? userId, IReadOnlyList<string>? roles) : ITenantContext
    {
        public string? TenantId => tenantId;

        public string? UserId => userId;

        public IReadOnlyList<string> Roles => roles!;
    }
}
