var builder = WebApplication.CreateBuilder(args);

var app = builder.Build();

app.MapGet("/", () => Results.Text("Hardening sample ATS is running.\n"));

app.Run();
