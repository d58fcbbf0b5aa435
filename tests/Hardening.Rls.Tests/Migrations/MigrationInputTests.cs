using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Rls.Tests.Migrations;

/// <summary>
/// Every refusal of the migration model with its whole message, and a property over random models whose oracle is
/// PostgreSQL: a model is accepted exactly when every name that stands alone in the SQL is one PostgreSQL's
/// <c>quote_ident</c> leaves unquoted (and the role does not start with <c>pg_</c>), and an accepted model's
/// <c>up</c> then <c>down</c> run on the server, secure every table, and leave the catalog as it was.
/// </summary>
public sealed class MigrationInputTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string Fix = "use 1-63 lower-case letters, digits and '_', not starting with a digit, such as 'jobs' (generated SQL relies on names that need no quoting).";

    public static TheoryData<string, Func<object>, string> Refusals => new()
    {
        { "role", () => new TenantSchema("App"), $"The application role name 'App' is not a plain PostgreSQL identifier; {Fix} (Parameter 'appRole')" },
        { "empty role", () => new TenantSchema(""), "The application role name is empty; use 1-63 lower-case letters, digits and '_', such as 'jobs'. (Parameter 'appRole')" },
        { "pg_ role", () => new TenantSchema("pg_app"), "Role names starting with 'pg_' are reserved by PostgreSQL. (Parameter 'appRole')" },
        { "keyword role", () => new TenantSchema("user"), "The application role name 'user' is a PostgreSQL key word that cannot stand unquoted as a name; choose another name such as 'jobs' (generated SQL relies on names that need no quoting). (Parameter 'appRole')" },
        { "table", () => new TenantSchema("a").Table("Jobs"), $"The table name 'Jobs' is not a plain PostgreSQL identifier; {Fix} (Parameter 'name')" },
        { "twice", () => new TenantSchema("a").Table("t").Table("t"), "Table 't' is declared twice. (Parameter 'name')" },
        { "view", () => new TenantSchema("a").View("1v"), $"The view name '1v' is not a plain PostgreSQL identifier; {Fix} (Parameter 'name')" },
        { "schema", () => Model(new TenantSchema("a") { Schema = "my schema" }), $"The schema name 'my schema' is not a plain PostgreSQL identifier; {Fix} (Parameter 'Schema')" },
        { "keyword schema", () => Model(new TenantSchema("a") { Schema = "order" }), "The schema name 'order' is a PostgreSQL key word that cannot stand unquoted as a name; choose another name such as 'jobs' (generated SQL relies on names that need no quoting). (Parameter 'Schema')" },
        { "column", () => Model(new TenantSchema("a") { TenantColumn = "Tenant" }), $"The tenant column name 'Tenant' is not a plain PostgreSQL identifier; {Fix} (Parameter 'TenantColumn')" },
        { "keyword column", () => Model(new TenantSchema("a") { TenantColumn = "time" }), "The tenant column name 'time' is a PostgreSQL key word that cannot stand unquoted as a name; choose another name such as 'jobs' (generated SQL relies on names that need no quoting). (Parameter 'TenantColumn')" },
        { "helper", () => Model(new TenantSchema("a") { HelperFunction = "f()" }), $"The helper function name 'f()' is not a plain PostgreSQL identifier; {Fix} (Parameter 'HelperFunction')" },
        { "policy", () => Model(new TenantSchema("a") { PolicyName = "" }), "The policy name is empty; use 1-63 lower-case letters, digits and '_', such as 'jobs'. (Parameter 'PolicyName')" },
        { "keyword policy", () => Model(new TenantSchema("a") { PolicyName = "select" }), "The policy name 'select' is a PostgreSQL key word that cannot stand unquoted as a name; choose another name such as 'jobs' (generated SQL relies on names that need no quoting). (Parameter 'PolicyName')" },
        { "setting", () => Model(new TenantSchema("a") { TenantSetting = "tenant" }), "Setting name 'tenant' (tenant) is not a valid PostgreSQL custom setting: it needs exactly one '.'; use letters, digits and '_' with exactly one '.' such as 'app.tenant_id'. (Parameter 'TenantSetting')" },
        { "type", () => Model(new TenantSchema("a") { TenantType = "json" }), "Tenant type 'json' is not supported; use one of uuid, text, bigint, integer. (Parameter 'TenantType')" },
        { "type case", () => Model(new TenantSchema("a") { TenantType = "UUID" }), "Tenant type 'UUID' is not supported; use one of uuid, text, bigint, integer. (Parameter 'TenantType')" },
        { "outside", () => new TenantSchema("a").Table("t", t => t.References("u_id", "u")).GenerateMigration(), "Table 't' references 'u', which is not a tenant table of this model; composite (tenant_id, ...) keys need both sides declared with Table(). (Parameter 'targetTable')" },
        { "outside custom column", () => new TenantSchema("a") { TenantColumn = "org" }.Table("t", t => t.References("u_id", "u")).GenerateMigration(), "Table 't' references 'u', which is not a tenant table of this model; composite (org, ...) keys need both sides declared with Table(). (Parameter 'targetTable')" },
        { "no unique columns", () => new TenantSchema("a").Table("t", t => t.Unique()), "A unique key needs at least one column besides the tenant column. (Parameter 'columns')" },
        { "unique column", () => new TenantSchema("a").Table("t", t => t.Unique("ok", "Bad")), $"The unique column name 'Bad' is not a plain PostgreSQL identifier; {Fix} (Parameter 'columns')" },
        { "keyword unique column", () => new TenantSchema("a").Table("t", t => t.Unique("check")), "The unique column name 'check' is a PostgreSQL key word that cannot stand unquoted as a name; choose another name such as 'jobs' (generated SQL relies on names that need no quoting). (Parameter 'columns')" },
        { "fk column", () => new TenantSchema("a").Table("t", t => t.References("U", "u")), $"The foreign key column name 'U' is not a plain PostgreSQL identifier; {Fix} (Parameter 'column')" },
        { "fk table", () => new TenantSchema("a").Table("t", t => t.References("u_id", "U")), $"The referenced table name 'U' is not a plain PostgreSQL identifier; {Fix} (Parameter 'targetTable')" },
        { "fk target column", () => new TenantSchema("a").Table("t", t => t.References("u_id", "u", "")), "The referenced column name is empty; use 1-63 lower-case letters, digits and '_', such as 'jobs'. (Parameter 'targetColumn')" },
        { "partition", () => new TenantSchema("a").Table("t", t => t.Partitions("t_1", "T_2")), $"The partition name 'T_2' is not a plain PostgreSQL identifier; {Fix} (Parameter 'partitions')" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Each_bad_input_is_refused_with_its_whole_message(string what, Func<object> build, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => build());
        Assert.True(e.GetType() == typeof(ArgumentException), what);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Missing_lists_and_an_empty_model_are_refused()
    {
        Assert.Equal("The model has no tenant tables; add them with Table(name).", Assert.Throws<InvalidOperationException>(() => new TenantSchema("a").View("v").GenerateMigration()).Message);
        Assert.Equal("columns", Assert.Throws<ArgumentNullException>(() => new TenantSchema("a").Table("t", t => t.Unique(null!))).ParamName);
        Assert.Equal("partitions", Assert.Throws<ArgumentNullException>(() => new TenantSchema("a").Table("t", t => t.Partitions(null!))).ParamName);
        Assert.Equal("a_app", new TenantSchema("a_app").AppRole);
    }

    [Fact]
    public async Task The_key_word_list_is_postgresqls_own()
    {
        // Every key word PostgreSQL does not list as unreserved is refused as a role; every unreserved one is accepted.
        var rows = (await postgres.Server.ScalarAsync<string>("SELECT string_agg(word || ':' || catcode::text, ' ') FROM pg_get_keywords()"))!.Split(' ');
        Assert.True(rows.Length > 400, $"only {rows.Length} key words");
        foreach (var row in rows)
        {
            var (word, category) = (row.Split(':')[0], row.Split(':')[1]);
            var accepted = Record.Exception(() => new TenantSchema(word)) is null;
            Assert.True(accepted == (category == "U"), $"'{word}' ({category}) accepted={accepted}");
        }
    }

    [Fact]
    public async Task Every_key_word_works_as_a_table_partition_view_and_helper_name()
    {
        // Tables, partitions, views and the helper may be named by any key word (they are always schema-qualified),
        // so up and down must run with each one, wherever the generator puts the name (inside DO blocks too, where
        // PL/pgSQL reads a table named "into" as its own INTO clause: the property below found that one).
        var words = (await postgres.Server.ScalarAsync<string>("SELECT string_agg(word, ' ' ORDER BY word) FROM pg_get_keywords()"))!.Split(' ');
        await using var conn = new NpgsqlConnection(postgres.Server.ForDatabase(await DatabaseAsync()) + ";Pooling=false");
        await conn.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var ddl = "CREATE SCHEMA kw_tables; CREATE SCHEMA kw_parts; CREATE SCHEMA kw_views; CREATE SCHEMA kw_helpers;"
            + "CREATE TABLE kw_parts.parent (tenant_id uuid NOT NULL, k integer NOT NULL) PARTITION BY LIST (k);"
            + "CREATE TABLE kw_views.t0 (tenant_id uuid NOT NULL, k integer NOT NULL); CREATE TABLE kw_helpers.t0 (tenant_id uuid NOT NULL, k integer NOT NULL);";
        for (var i = 0; i < words.Length; i++)
        {
            ddl += $"CREATE TABLE kw_tables.{Q(words[i])} (tenant_id uuid NOT NULL, k integer NOT NULL);"
                + $"CREATE TABLE kw_parts.{Q(words[i])} PARTITION OF kw_parts.parent FOR VALUES IN ({i});"
                + $"CREATE VIEW kw_views.{Q(words[i])} AS SELECT * FROM kw_views.t0;";
        }

        await ExecAsync(conn, ddl);
        var tables = new TenantSchema("kw_app") { Schema = "kw_tables" };
        foreach (var w in words)
        {
            tables.Table(w, t => t.Unique("k").References("k", words[0], "k"));
        }

        var parts = new TenantSchema("kw_app") { Schema = "kw_parts" }.Table("parent", t => t.Partitions(words));
        var views = new TenantSchema("kw_app") { Schema = "kw_views" }.Table("t0");
        foreach (var w in words)
        {
            views.View(w);
        }

        foreach (var model in new[] { tables, parts, views })
        {
            var migration = model.GenerateMigration();
            await ExecAsync(conn, migration.Up);
            Assert.Equal((words.Length + (model == tables ? 0 : 1)).ToString(System.Globalization.CultureInfo.InvariantCulture), await ExecScalarAsync(conn, $"""
                SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = '{model.Schema}' AND c.relrowsecurity AND c.relforcerowsecurity{(model == views ? " OR n.nspname = 'kw_views' AND c.relkind = 'v' AND c.reloptions @> ARRAY['security_invoker=true']" : "")}
                """));
            await ExecAsync(conn, migration.Up);
            await ExecAsync(conn, migration.Down);
            Assert.Equal("0", await ExecScalarAsync(conn, $"SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{model.Schema}' AND c.relrowsecurity"));
        }

        foreach (var w in words.Where(w => Record.Exception(() => new TenantSchema(w)) is not null)) // the key words that need quotes
        {
            var migration = new TenantSchema("kw_app") { Schema = "kw_helpers", HelperFunction = w }.Table("t0").GenerateMigration();
            await ExecAsync(conn, migration.Up);
            await ExecAsync(conn, migration.Down);
        }

        await tx.RollbackAsync();
    }

    public sealed record Case(
        string Role, string Schema, string Column, string Policy, string Helper, string[] Tables, string Key, bool Reference, bool View, string Type, bool Login)
    {
        public override string ToString() =>
            $"Case {{ Role = {Role}, Schema = {Schema}, Column = {Column}, Policy = {Policy}, Helper = {Helper}, Tables = [{string.Join(", ", Tables)}], Key = {Key}, Reference = {Reference}, View = {View}, Type = {Type}, Login = {Login} }}";
    }

    /// <summary>
    /// Random models whose names mix random plain identifiers (up to 63 characters, so derived names get hashed)
    /// with PostgreSQL key words of every category. 100 cases; each runs in a transaction that is rolled back.
    /// </summary>
    [Property(MaxTest = 100)]
    public Property A_model_is_accepted_exactly_when_postgresql_needs_no_quotes_and_then_up_and_down_run_cleanly()
    {
        var keywords = postgres.Server.ScalarAsync<string>("SELECT string_agg(word, ' ') FROM pg_get_keywords()").GetAwaiter().GetResult()!.Split(' ');
        var first = Gen.Elements("abcdefghijklmnopqrstuvwxyz_".ToCharArray());
        var rest = Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789_".ToCharArray());
        var plain = from f in first
                    from n in Gen.Frequency((4, Gen.Choose(1, 8)), (1, Gen.Choose(50, 62)))
                    from r in Gen.ArrayOf(rest, n)
                    select f + new string(r);
        var name = Gen.Frequency((3, plain), (1, Gen.Elements(keywords)));
        var cases =
            from role in name
            from schema in Gen.Frequency((1, Gen.Constant("public")), (2, name))
            from column in name
            from policy in name
            from helper in name
            from count in Gen.Choose(1, 3)
            from tables in Gen.ArrayOf(name, count)
            from key in name
            from reference in ArbMap.Default.GeneratorFor<bool>()
            from view in ArbMap.Default.GeneratorFor<bool>()
            from type in Gen.Elements("uuid", "text", "bigint", "integer")
            from login in ArbMap.Default.GeneratorFor<bool>()
            where tables.Distinct().Count() == tables.Length && key != column && !tables.Contains(ViewName(tables[0]))
            select new Case(("r" + role)[..Math.Min(63, role.Length + 1)], schema, column, policy, helper, tables, key, reference, view, type, login);
        return Prop.ForAll(cases.ToArbitrary(), c => CheckAsync(c).GetAwaiter().GetResult());
    }

    private async Task<bool> CheckAsync(Case c)
    {
        await using var conn = new NpgsqlConnection(postgres.Server.ForDatabase(await DatabaseAsync()) + ";Pooling=false");
        await conn.OpenAsync();

        // The oracle: PostgreSQL's quote_ident on every name that stands alone unquoted in the generated SQL.
        string[] standalone = [c.Role, c.Schema, c.Column, c.Policy, c.Key];
        await using (var q = new NpgsqlCommand("SELECT bool_and(quote_ident(n) = n) FROM unnest($1::text[]) n", conn) { Parameters = { new() { Value = standalone } } })
        {
            var expected = (bool)(await q.ExecuteScalarAsync())! && !c.Role.StartsWith("pg_", StringComparison.Ordinal);
            var model = Record.Exception(() => Build(c).GenerateMigration());
            Assert.True(expected == (model is null), $"{c}: PostgreSQL says {(expected ? "no quotes needed" : "quotes needed")}, the model {(model is null ? "accepted it" : "refused it: " + model.Message)}");
            if (!expected)
            {
                Assert.IsType<ArgumentException>(model);
                return true;
            }
        }

        var migration = Build(c).GenerateMigration();
        await using var tx = await conn.BeginTransactionAsync();
        var sql = c.Schema == "public" ? "" : $"CREATE SCHEMA {Q(c.Schema)};";
        foreach (var t in c.Tables)
        {
            sql += $"CREATE TABLE {Q(c.Schema)}.{Q(t)} ({Q(c.Column)} {c.Type} NOT NULL, {Q(c.Key)} integer NOT NULL);";
        }

        if (c.View)
        {
            sql += $"CREATE VIEW {Q(c.Schema)}.{Q(ViewName(c.Tables[0]))} AS SELECT * FROM {Q(c.Schema)}.{Q(c.Tables[0])};";
        }

        await ExecAsync(conn, sql);
        var catalog = MigrationCatalogTests.Catalog(c.Role, c.Schema);
        var before = await ExecScalarAsync(conn, catalog);
        await ExecAsync(conn, migration.Up);
        var secured = await ExecScalarAsync(conn, $"""
            SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = '{c.Schema}' AND c.relkind = 'r' AND c.relrowsecurity AND c.relforcerowsecurity
              AND EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = '{c.Policy}' AND p.polroles = ARRAY['{c.Role}'::regrole::oid])
            """);
        Assert.Equal(c.Tables.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), secured);
        Assert.Equal(c.Login ? "t" : "f", await ExecScalarAsync(conn, $"SELECT rolcanlogin::text::char FROM pg_roles WHERE rolname = '{c.Role}'"));
        await ExecAsync(conn, migration.Up); // idempotent
        await ExecAsync(conn, migration.Down);
        var after = await ExecScalarAsync(conn, catalog);
        var added = after!.Split('\n').Except(before!.Split('\n')).ToArray();
        Assert.True(added.Length == 1 && added[0].StartsWith($"role {c.Role} ", StringComparison.Ordinal) && before.Split('\n').Except(after.Split('\n')).Count() == 0,
            $"{c}: down after up changed the catalog:\n+ {string.Join("\n+ ", added)}\n- {string.Join("\n- ", before.Split('\n').Except(after.Split('\n')))}");
        await tx.RollbackAsync();
        return true;
    }

    private static TenantSchema Build(Case c)
    {
        var model = new TenantSchema(c.Role)
        {
            Schema = c.Schema,
            TenantColumn = c.Column,
            PolicyName = c.Policy,
            HelperFunction = c.Helper,
            TenantType = c.Type,
            AppRoleCanLogin = c.Login,
        };
        for (var i = 0; i < c.Tables.Length; i++)
        {
            var target = c.Tables[0];
            model.Table(c.Tables[i], t =>
            {
                t.Unique(c.Key);
                if (c.Reference && i > 0)
                {
                    t.References(c.Key, target, c.Key);
                }
            });
        }

        return c.View ? model.View(ViewName(c.Tables[0])) : model;
    }

    private static string ViewName(string table) => ("v_" + table)[..Math.Min(63, table.Length + 2)];

    private static object Model(TenantSchema model) => model.Table("t").GenerateMigration();

    /// <summary>Quotes a name the way the test's DDL needs (the generated names are lower-case, so this is exact).</summary>
    private static string Q(string name) => "\"" + name + "\"";

    private string? _database;

    private async Task<string> DatabaseAsync() => _database ??= await postgres.Server.CreateDatabaseAsync("rls_prop");

    private static async Task ExecAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<string?> ExecScalarAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (string?)await cmd.ExecuteScalarAsync();
    }
}
