using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Hardening.Drills.Faults;

/// <summary>What the server acknowledged (2xx) during the drill: the database must have each of these afterwards.</summary>
internal sealed class Acknowledged
{
    public ConcurrentBag<(Guid Tenant, Guid Candidate)> Candidates { get; } = [];

    public ConcurrentBag<(Guid Tenant, Guid Candidate, string From, string To)> Transitions { get; } = [];

    public ConcurrentBag<(Guid Tenant, Guid Job, Guid Candidate)> Resumes { get; } = [];
}

/// <summary>
/// The background load the faults happen under: per worker, one recruiter creating candidates (with an
/// Idempotency-Key), moving its own candidates along APPLIED → SCREENING → INTERVIEW → REJECTED, uploading a résumé
/// now and then, reading and listing. Each worker owns its candidates, so a 409 means the server's state differs
/// from what the worker last saw (it then re-reads). Logs in again on 401.
/// </summary>
internal sealed class FaultWorkload(FaultClient client, IReadOnlyList<DrillUser> users, int workersPerUser, TimeSpan pause, Acknowledged acks)
{
    internal static readonly byte[] Pdf = Encoding.Latin1.GetBytes("%PDF-1.4\n1 0 obj<<>>endobj\nBT (Faults Drill) Tj ET\n%%EOF\n");

    private static readonly Dictionary<string, (string Trigger, string To)> Next = new(StringComparer.Ordinal)
    {
        ["APPLIED"] = ("screen", "SCREENING"),
        ["SCREENING"] = ("interview", "INTERVIEW"),
        ["INTERVIEW"] = ("reject", "REJECTED"),
    };

    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(users.SelectMany(u => Enumerable.Range(0, workersPerUser).Select(i => Task.Run(() => WorkerAsync(u, i, stop), CancellationToken.None))));

    private sealed class Candidate(Guid id)
    {
        public Guid Id { get; } = id;

        public string? State { get; set; } = "APPLIED";

        public int Uploads { get; set; }
    }

    private async Task WorkerAsync(DrillUser user, int index, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(user.Tenant, index));
        var mine = new List<Candidate>();
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var roll = random.Next(100);
                var open = mine.Where(c => c.State is null || Next.ContainsKey(c.State)).ToList();
                int status;
                if (open.Count < 3 || roll < 30)
                {
                    status = await CreateAsync(user, mine, $"{index}-{n++}", stop);
                }
                else if (roll < 70)
                {
                    status = await TransitionAsync(user, open[random.Next(open.Count)], stop);
                }
                else if (roll < 78 && open.FirstOrDefault(c => c.Uploads < 2) is { } target)
                {
                    status = await UploadAsync(user, target, stop);
                }
                else if (roll < 92)
                {
                    status = await ReadAsync(user, open[random.Next(open.Count)], stop);
                }
                else
                {
                    (status, _) = await client.SendAsync("list", HttpMethod.Get, "/api/candidates?limit=20", user.AccessToken, ct: stop);
                }

                if (status == 401)
                {
                    var (s, tokens) = await client.LoginAsync(user.Tenant, user.Email, user.Password, stop);
                    if (s == 200)
                    {
                        user.AccessToken = tokens!.Value.Access;
                    }
                }

                await Task.Delay(status is 200 or 201 or 202 or 409 or 404 ? pause : pause * 4, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task<int> CreateAsync(DrillUser user, List<Candidate> mine, string n, CancellationToken stop)
    {
        var (status, body) = await client.PostJsonAsync("create", "/api/candidates", new { name = "Faults " + n, email = $"c{n}@faults.drill" }, user.AccessToken, idempotencyKey: $"faults-{user.Tenant:N}-{n}", ct: stop);
        if (status == 201)
        {
            var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
            acks.Candidates.Add((user.Tenant, id));
            mine.Add(new Candidate(id));
        }

        return status;
    }

    private async Task<int> TransitionAsync(DrillUser user, Candidate c, CancellationToken stop)
    {
        if (c.State is null)
        {
            return await ReadAsync(user, c, stop);
        }

        var from = c.State;
        var (trigger, to) = Next[from];
        var (status, _) = await client.PostJsonAsync("transition", $"/api/candidates/{c.Id}/transitions", new { trigger, reason = "faults drill", expectedState = from }, user.AccessToken, c.Id.ToString(), ct: stop);
        if (status == 200)
        {
            acks.Transitions.Add((user.Tenant, c.Id, from, to));
            c.State = to;
        }
        else
        {
            // 409 (another state) or no answer / 5xx (did it commit?): read it before the next transition.
            c.State = null;
        }

        return status;
    }

    private async Task<int> ReadAsync(DrillUser user, Candidate c, CancellationToken stop)
    {
        var (status, body) = await client.SendAsync("read", HttpMethod.Get, $"/api/candidates/{c.Id}", user.AccessToken, key: c.Id.ToString(), ct: stop);
        if (status == 200)
        {
            c.State = JsonDocument.Parse(body).RootElement.GetProperty("status").GetString();
        }

        return status;
    }

    private async Task<int> UploadAsync(DrillUser user, Candidate c, CancellationToken stop)
    {
        c.Uploads++;
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Pdf);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/pdf");
        form.Add(file, "file", "cv.pdf");
        var (status, body) = await client.SendAsync("upload", HttpMethod.Post, $"/api/candidates/{c.Id}/resume", user.AccessToken, form, c.Id.ToString(), $"faults-{c.Id:N}-{c.Uploads}", stop);
        if (status == 202)
        {
            acks.Resumes.Add((user.Tenant, JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid(), c.Id));
        }

        return status;
    }
}
