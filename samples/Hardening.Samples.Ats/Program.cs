using Hardening.Samples.Ats;

// The sample ATS: every Hardening package composed in one host. `./build.sh sample` starts PostgreSQL and Redis and
// passes them in HARDENING_PG / HARDENING_REDIS; each Add/Map pair lives in its own <Package>Sample.cs.
var builder = WebApplication.CreateBuilder(args);

builder.Services.AddAuthentication();
builder.Services.AddAuthorization();

builder.AddRedisSample();
builder.AddPasswordsSample();
builder.AddTokensSample();
builder.AddRlsSample();
builder.AddFsmSample();
builder.AddSseSample();
builder.AddObservabilitySample();

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();

app.MapGet("/", () => Results.Text(
    "Hardening sample ATS is running. See /health/ready, /metrics (loopback), /auth/*, /rls/*, /candidates/*, /events/*.\n"));

app.MapRedisSample();
app.MapPasswordsSample();
app.MapTokensSample();
app.MapRlsSample();
app.MapFsmSample();
app.MapSseSample();
app.MapObservabilitySample();

app.Run();
