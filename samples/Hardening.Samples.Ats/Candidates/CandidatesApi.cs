using System.Globalization;
using System.Text.Json;
using Hardening.Fsm;
using Hardening.Rls;
using Hardening.Samples.Ats.Accounts;
using Hardening.Samples.Ats.Infrastructure;
using Hardening.Samples.Ats.Live;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hardening.Samples.Ats.Candidates;

/// <summary>
/// <c>/api/candidates</c> under row-level security for the caller's tenant (another tenant's id is 404):
/// keyset-paginated list, create (idempotency key), read, patch of unprotected fields, and pipeline transitions
/// decided by Hardening.Fsm in C# and enforced again by the generated trigger, published through the outbox.
/// </summary>
internal static class CandidatesApi
{
    internal const string Columns = "id, name, email, phone, notes, expected_salary, offer_signed, status, is_blacklisted, created_at, updated_at";

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>Fields the client may write, with their length caps.</summary>
    private static readonly Dictionary<string, int> TextFields = new(StringComparer.Ordinal)
    {
        ["name"] = 200, ["email"] = 254, ["phone"] = 40, ["notes"] = 4000,
    };

    /// <summary>Fields only transitions change.</summary>
    private static readonly HashSet<string> Protected = new(StringComparer.OrdinalIgnoreCase)
    {
        "status", "isBlacklisted", "is_blacklisted", "blacklisted", "tenantId", "tenant_id", "id", "createdAt", "updatedAt",
    };

    public static RouteGroupBuilder MapCandidatesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/candidates").WithTags("Candidates").RequireAuthorization().RequireRateLimiting(RateLimits.Api);
        group.MapGet("/", ListAsync);
        group.MapPost("/", CreateAsync).Accepts<CandidateInput>("application/json");
        group.MapGet("/{id}", GetAsync).WithName("GetCandidate");
        group.MapPatch("/{id}", PatchAsync).Accepts<CandidateInput>("application/merge-patch+json", "application/json");
        group.MapPost("/{id}/transitions", TransitionAsync).Accepts<TransitionRequest>("application/json");
        group.MapGet("/pipeline", (StateMachine<CandidateEntity> machine) => Results.Text(machine.ToMermaid(), "text/plain"));
        return group;
    }

    internal sealed record CandidateInput(string? Name, string? Email, string? Phone, string? Notes, int? ExpectedSalary, bool? OfferSigned);

    internal sealed record TransitionRequest(string? Trigger, string? Reason, string? ExpectedState);

    private static async Task<IResult> ListAsync(string? limit, string? after, TenantDataSource db, ITenantContext tenant, IOptions<AtsOptions> options, StateMachine<CandidateEntity> machine, CancellationToken ct)
    {
        var max = options.Value.MaxPageSize;
        var take = 50;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take < 1 || take > max))
        {
            return Problems.BadRequest("limit", $"'limit' must be a whole number from 1 to {max}.");
        }

        Guid? cursor = null;
        if (after is not null)
        {
            if (!Guid.TryParse(after, out var a))
            {
                return Problems.BadRequest("after", "'after' must be the id of the last candidate of the previous page.");
            }

            cursor = a;
        }

        await using var session = await db.OpenSessionAsync(tenant, ct);
        var select = session.CreateCommand($"SELECT {Columns} FROM candidates WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2");
        select.Parameters.Add(new NpgsqlParameter { Value = (object?)cursor ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        select.Parameters.Add(new NpgsqlParameter { Value = take + 1 });
        var items = new List<object>();
        Guid? last = null;
        var more = false;
        await using (var reader = await session.ExecuteReaderAsync(select, cancellationToken: ct))
        {
            while (await reader.ReadAsync(ct))
            {
                if (items.Count == take)
                {
                    more = true;
                    break;
                }

                last = reader.GetGuid(0);
                items.Add(Read(reader, machine));
            }
        }

        return Results.Ok(new { items, next = more ? last : null });
    }

    private static async Task<IResult> GetAsync(string id, TenantDataSource db, ITenantContext tenant, StateMachine<CandidateEntity> machine, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var candidate))
        {
            return Problems.NotFound("candidate");
        }

        await using var session = await db.OpenSessionAsync(tenant, ct);
        var select = session.CreateCommand($"SELECT {Columns} FROM candidates WHERE id = $1");
        select.Parameters.Add(new NpgsqlParameter { Value = candidate });
        await using var reader = await session.ExecuteReaderAsync(select, cancellationToken: ct);
        return await reader.ReadAsync(ct) ? Results.Ok(Read(reader, machine)) : Problems.NotFound("candidate");
    }

    private static async Task<IResult> CreateAsync(HttpContext http, TenantDataSource db, ITenantContext tenant, StateMachine<CandidateEntity> machine, LinkGenerator links, OutboxSignal outbox, CancellationToken ct)
    {
        var who = Caller.From(http.User)!;
        var (body, problem) = await Input.ReadJsonAsync<CandidateInput>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var name = Input.Text(errors, "name", body!.Name, TextFields["name"], required: true);
        var email = Input.Email(errors, "email", body.Email, required: false);
        var phone = Input.Text(errors, "phone", body.Phone, TextFields["phone"], required: false);
        var notes = Input.Text(errors, "notes", body.Notes, TextFields["notes"], required: false);
        if (body.ExpectedSalary is < 0 or > 100_000_000)
        {
            errors["expectedSalary"] = ["'expectedSalary' must be from 0 to 100000000."];
        }

        var key = Idempotency.ReadKey(http.Request, errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var id = Guid.CreateVersion7();
        await using var session = await db.OpenSessionAsync(tenant, ct);
        await session.BeginTransactionAsync(ct);
        if (key is not null && await Idempotency.ClaimAsync(session, who.TenantId, key, Idempotency.Hash(JsonSerializer.Serialize(body, Web)), ct) is { } replay)
        {
            await session.RollbackAsync(ct);
            return replay;
        }

        var insert = session.CreateCommand($"""
            INSERT INTO candidates (tenant_id, id, name, email, phone, notes, expected_salary, offer_signed, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {Columns}
            """);
        insert.Parameters.Add(new NpgsqlParameter { Value = who.TenantId });
        insert.Parameters.Add(new NpgsqlParameter { Value = id });
        insert.Parameters.Add(Text(name));
        insert.Parameters.Add(Text(email));
        insert.Parameters.Add(Text(phone));
        insert.Parameters.Add(Text(notes));
        insert.Parameters.Add(new NpgsqlParameter { Value = (object?)body.ExpectedSalary ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        insert.Parameters.Add(new NpgsqlParameter { Value = body.OfferSigned ?? false });
        insert.Parameters.Add(new NpgsqlParameter { Value = who.AccountId });
        object created;
        await using (var reader = await session.ExecuteReaderAsync(insert, cancellationToken: ct))
        {
            await reader.ReadAsync(ct);
            created = Read(reader, machine);
        }

        var json = JsonSerializer.Serialize(created, Web);
        await Outbox.AddAsync(session, who.TenantId, "candidate.created", json, ct);
        var location = links.GetPathByName(http, "GetCandidate", new { id }) ?? $"/api/candidates/{id}";
        if (key is not null)
        {
            await Idempotency.CompleteAsync(session, key, StatusCodes.Status201Created, location, json, ct);
        }

        await session.CommitAsync(ct);
        outbox.Notify();
        return Results.Created(location, created);
    }

    private static async Task<IResult> PatchAsync(string id, HttpContext http, TenantDataSource db, ITenantContext tenant, StateMachine<CandidateEntity> machine, OutboxSignal outbox, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var candidate))
        {
            return Problems.NotFound("candidate");
        }

        var (body, problem) = await Input.ReadJsonAsync<Dictionary<string, JsonElement>>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var sets = new List<string>();
        var values = new List<NpgsqlParameter>();
        foreach (var (field, value) in body!)
        {
            if (Protected.Contains(field))
            {
                errors[field] = [$"'{field}' cannot be changed here; status and blacklist change only through POST /api/candidates/{{id}}/transitions."];
                continue;
            }

            if (TextFields.TryGetValue(field, out var max))
            {
                if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                {
                    errors[field] = [$"'{field}' must be a string or null."];
                    continue;
                }

                var text = field == "email"
                    ? Input.Email(errors, field, value.GetString(), required: false)
                    : Input.Text(errors, field, value.GetString(), max, required: field == "name");
                if (!errors.ContainsKey(field))
                {
                    sets.Add($"{field} = ${values.Count + 2}");
                    values.Add(Text(text));
                }
            }
            else if (field == "expectedSalary")
            {
                if (value.ValueKind == JsonValueKind.Null)
                {
                    sets.Add($"expected_salary = ${values.Count + 2}");
                    values.Add(new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
                }
                else if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var salary) && salary is >= 0 and <= 100_000_000)
                {
                    sets.Add($"expected_salary = ${values.Count + 2}");
                    values.Add(new NpgsqlParameter { Value = salary });
                }
                else
                {
                    errors[field] = ["'expectedSalary' must be a whole number from 0 to 100000000, or null."];
                }
            }
            else if (field == "offerSigned")
            {
                if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                {
                    sets.Add($"offer_signed = ${values.Count + 2}");
                    values.Add(new NpgsqlParameter { Value = value.GetBoolean() });
                }
                else
                {
                    errors[field] = ["'offerSigned' must be true or false."];
                }
            }
            else
            {
                errors[field] = [$"'{field}' is not a field of a candidate."];
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        if (sets.Count == 0)
        {
            return Problems.BadRequest("body", "Name at least one field to change.");
        }

        await using var session = await db.OpenSessionAsync(tenant, ct);
        await session.BeginTransactionAsync(ct);
        var update = session.CreateCommand($"UPDATE candidates SET {string.Join(", ", sets)}, updated_at = now() WHERE id = $1 RETURNING {Columns}");
        update.Parameters.Add(new NpgsqlParameter { Value = candidate });
        foreach (var p in values)
        {
            update.Parameters.Add(p);
        }

        object? changed = null;
        await using (var reader = await session.ExecuteReaderAsync(update, cancellationToken: ct))
        {
            if (await reader.ReadAsync(ct))
            {
                changed = Read(reader, machine);
            }
        }

        if (changed is null)
        {
            await session.RollbackAsync(ct);
            return Problems.NotFound("candidate");
        }

        await Outbox.AddAsync(session, Caller.From(http.User)!.TenantId, "candidate.updated", JsonSerializer.Serialize(changed, Web), ct);
        await session.CommitAsync(ct);
        outbox.Notify();
        return Results.Ok(changed);
    }

    private static async Task<IResult> TransitionAsync(string id, HttpContext http, TenantDataSource db, ITenantContext tenant, StateMachine<CandidateEntity> machine, OutboxSignal outbox, CancellationToken ct)
    {
        var who = Caller.From(http.User)!;
        if (!Guid.TryParse(id, out var candidate))
        {
            return Problems.NotFound("candidate");
        }

        var (body, problem) = await Input.ReadJsonAsync<TransitionRequest>(http.Request);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var trigger = Input.Text(errors, "trigger", body!.Trigger, 50, required: true);
        var reason = Input.Text(errors, "reason", body.Reason, 500, required: true);
        var expected = Input.Text(errors, "expectedState", body.ExpectedState, 50, required: true);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        // The actor context travels in the tenant session's one context statement (no extra round trip or statement),
        // bound to this transaction so the audit trigger never sees a stale actor.
        var actor = Actor.User(who.AccountId.ToString());
        await using var session = await db.OpenSessionAsync(tenant, Database.Candidates.ContextSettings(actor, reason!), Database.Candidates.ContextBindingSetting, ct);
        await session.BeginTransactionAsync(ct);

        var load = session.CreateCommand("SELECT status, is_blacklisted, expected_salary, offer_signed FROM candidates WHERE id = $1 FOR UPDATE");
        load.Parameters.Add(new NpgsqlParameter { Value = candidate });
        CandidateEntity? entity = null;
        await using (var reader = await session.ExecuteReaderAsync(load, cancellationToken: ct))
        {
            if (await reader.ReadAsync(ct))
            {
                var status = reader.GetString(0);
                var blacklisted = reader.GetBoolean(1);
                var salary = reader.IsDBNull(2) ? (int?)null : reader.GetInt32(2);
                var signed = reader.GetBoolean(3);
                entity = new CandidateEntity(candidate, status, [], blacklisted) { ExpectedSalary = salary, OfferSigned = signed };
            }
        }

        if (entity is null)
        {
            await session.RollbackAsync(ct);
            return Problems.NotFound("candidate");
        }

        var visited = await Database.Candidates.LoadVisitedStatesAsync(session.Connection, candidate.ToString(), session.Transaction, ct);
        entity = new CandidateEntity(candidate, entity.State, visited, entity.IsBlacklisted) { ExpectedSalary = entity.ExpectedSalary, OfferSigned = entity.OfferSigned };
        var result = machine.TryFire(entity, trigger!, actor, reason!, expected!);
        if (!result.Accepted)
        {
            await session.RollbackAsync(ct);
            var code = JsonNamingPolicy.SnakeCaseLower.ConvertName(result.Reason.ToString());
            return Problems.Status(StatusCodes.Status409Conflict, result.Message, code);
        }

        var record = result.Record!;
        var update = session.CreateCommand("UPDATE candidates SET status = $2, updated_at = now() WHERE id = $1 AND status = $3 RETURNING is_blacklisted");
        update.Parameters.Add(new NpgsqlParameter { Value = candidate });
        update.Parameters.Add(new NpgsqlParameter { Value = record.To });
        update.Parameters.Add(new NpgsqlParameter { Value = record.From });
        try
        {
            if (await session.ExecuteScalarAsync(update, ct) is not bool blacklisted)
            {
                await session.RollbackAsync(ct);
                return Problems.Status(StatusCodes.Status409Conflict, "The candidate changed meanwhile; reload and retry.", "stale_state");
            }

            var transition = new
            {
                candidateId = candidate,
                from = record.From,
                to = record.To,
                trigger = record.Trigger,
                actorId = record.ActorId,
                reason = record.Reason,
                at = record.OccurredAt,
                isTerminal = record.IsTerminal,
                isBlacklisted = blacklisted,
            };
            await Outbox.AddAsync(session, who.TenantId, "candidate.transitioned", JsonSerializer.Serialize(transition, Web), ct);
            await session.CommitAsync(ct);
            outbox.Notify();
            return Results.Ok(transition);
        }
        catch (PostgresException e) when (e.SqlState.StartsWith("HF", StringComparison.Ordinal) || e.SqlState == FsmSqlState.CheckViolation)
        {
            // The database refused what C# allowed (another writer, or a rule only the database knows): nothing was
            // committed, so nothing is published.
            await session.RollbackAsync(CancellationToken.None);
            return Problems.Status(StatusCodes.Status409Conflict, e.MessageText, "database_" + e.SqlState.ToLowerInvariant());
        }
    }

    private static object Read(NpgsqlDataReader r, StateMachine<CandidateEntity> machine)
    {
        var status = r.GetString(7);
        return new
        {
            id = r.GetGuid(0),
            name = r.GetString(1),
            email = r.IsDBNull(2) ? null : r.GetString(2),
            phone = r.IsDBNull(3) ? null : r.GetString(3),
            notes = r.IsDBNull(4) ? null : r.GetString(4),
            expectedSalary = r.IsDBNull(5) ? (int?)null : r.GetInt32(5),
            offerSigned = r.GetBoolean(6),
            status,
            isBlacklisted = r.GetBoolean(8),
            createdAt = r.GetFieldValue<DateTimeOffset>(9),
            updatedAt = r.GetFieldValue<DateTimeOffset>(10),
            permittedTriggers = machine.PermittedTriggers(status),
        };
    }

    private static NpgsqlParameter Text(string? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text };
}
