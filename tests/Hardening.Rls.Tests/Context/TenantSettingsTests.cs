using Hardening.Shared;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Rls.Tests.Context;

public sealed partial class TenantSettingsTests
{
    [Theory]
    [InlineData("app.tenant_id")]
    [InlineData("_a._b")]
    [InlineData("App1.Tenant_2")]
    public void Valid_setting_names_are_accepted(string name) => PostgresNames.SettingName(name, "tenant", "name");

    [Theory]
    [InlineData("tenant_id", "exactly one '.'")]
    [InlineData("app.tenant.id", "exactly one '.'")]
    [InlineData("app.tenant id", "not a valid PostgreSQL custom setting")]
    [InlineData("app.1tenant", "not starting with a digit")]
    [InlineData("app.tenant'; --", "not a valid PostgreSQL custom setting")]
    [InlineData(".tenant", "not a valid PostgreSQL custom setting")]
    [InlineData("", "empty")]
    public void Invalid_setting_names_fail_with_a_message_that_says_what_is_wrong(string name, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => PostgresNames.SettingName(name, "tenant", "name"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains("app.tenant_id", e.Message, StringComparison.Ordinal); // says what a good name looks like
    }

    [Property(MaxTest = 300)]
    public Property A_setting_name_is_accepted_exactly_when_it_is_identifier_dot_identifier()
    {
        var chars = Gen.Elements("ab_.Z9 -'$\"é\0".ToCharArray());
        var names = Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(chars, n)).Select(c => new string(c));
        return Prop.ForAll(names.ToArbitrary(), name =>
        {
            var accepted = Record.Exception(() => PostgresNames.SettingName(name, "tenant", "name")) is null;
            Assert.Equal(NamePattern().IsMatch(name), accepted);
        });
    }

    [Fact]
    public void Values_that_cannot_arrive_intact_are_refused()
    {
        // Built in code: xunit would turn lone surrogates in [InlineData] into U+FFFD.
        (string Value, string Expected)[] cases =
        [
            ("a\0b", "NUL character at index 1"),
            (new string([(char)0xD800, 'x']), "unpaired UTF-16 surrogate at index 0"),
            (new string(['x', (char)0xDC00]), "unpaired UTF-16 surrogate at index 1"),
            (new string('x', 257), "257 characters long; the limit is 256"),
        ];
        foreach (var (value, expected) in cases)
        {
            var e = Assert.Throws<ArgumentException>(() => PostgresSettings.ValidateValue(value, "tenant id", "value", 256, "TenantDataSourceOptions.MaxValueLength"));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }

        PostgresSettings.ValidateValue("\ud83d\ude00 ok", "tenant id", "value", 256, "TenantDataSourceOptions.MaxValueLength"); // a proper pair is fine
    }

    [Fact]
    public async Task The_data_source_refuses_bad_values_before_opening_a_connection()
    {
        // Port 1: nothing listens, so reaching the network would fail differently.
        await using var ds = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Timeout=1");
        var tenantDb = new TenantDataSource(ds, new TenantDataSourceOptions { MaxValueLength = 8, MaxRoles = 2 });
        Assert.Contains("9 characters long; the limit is 8", (await Assert.ThrowsAsync<ArgumentException>(async () => await tenantDb.OpenSessionAsync(new TenantContext("123456789")))).Message, StringComparison.Ordinal);
        Assert.Contains("contains ','", (await Assert.ThrowsAsync<ArgumentException>(async () => await tenantDb.OpenSessionAsync(new TenantContext("t", roles: ["a,b"])))).Message, StringComparison.Ordinal);
        Assert.Contains("3 roles; the limit is 2", (await Assert.ThrowsAsync<ArgumentException>(async () => await tenantDb.OpenSessionAsync(new TenantContext("t", roles: ["a", "b", "c"])))).Message, StringComparison.Ordinal);
        Assert.Contains("NUL", (await Assert.ThrowsAsync<ArgumentException>(async () => await tenantDb.OpenSessionAsync(new TenantContext("t", userId: "u\0")))).Message, StringComparison.Ordinal);
        Assert.Contains("three different names", Assert.Throws<ArgumentException>(() => new TenantDataSource(ds, new TenantDataSourceOptions { UserSetting = "app.tenant_id" })).Message, StringComparison.Ordinal);
        Assert.Contains("three different names", Assert.Throws<ArgumentException>(() => new TenantDataSource(ds, new TenantDataSourceOptions { RolesSetting = "APP.Tenant_Id" })).Message, StringComparison.Ordinal); // PostgreSQL folds setting names
        Assert.Contains("'app.tenant id'", Assert.Throws<ArgumentException>(() => new TenantDataSource(ds, new TenantDataSourceOptions { TenantSetting = "app.tenant id" })).Message, StringComparison.Ordinal);
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}\\.[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    private static partial Regex NamePattern();
}
