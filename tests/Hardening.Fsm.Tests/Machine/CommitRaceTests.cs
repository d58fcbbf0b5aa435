namespace Hardening.Fsm.Tests.Machine;

/// <summary>
/// A decision is made on a snapshot without the lock; another transition may commit between the decision and the
/// commit. The interleavings are forced with a predicate guard and an audit sink that signal and wait, so each test
/// takes the same path every run.
/// </summary>
public sealed class CommitRaceTests
{
    private static readonly Actor Agent = Actor.User("agent-1");

    public sealed class Ticket : StatefulEntity
    {
        public Ticket()
            : base("OPEN")
        {
        }
    }

    /// <summary>OPEN --start (guard)--> DOING, OPEN --cancel--> CANCELLED; the sink holds every cancel until released.</summary>
    private sealed class Race : IDisposable
    {
        private readonly ManualResetEventSlim _releaseCancel = new();
        private readonly ManualResetEventSlim _releaseGuard = new(initialState: true);

        public Race(bool guardHolds)
        {
            var b = new StateMachineBuilder<Ticket>("ticket", _ => "t-1");
            b.InitialState("OPEN");
            b.Configure("OPEN")
                .Permit("start", "DOING").Guard("ready", _ =>
                {
                    GuardEvaluating.TrySetResult();
                    _releaseGuard.Wait();
                    return guardHolds;
                })
                .Permit("cancel", "CANCELLED");
            b.Configure("DOING").Terminal();
            b.Configure("CANCELLED").Terminal();
            b.UseAuditSink(new Sink(this));
            Machine = b.Build();
        }

        public StateMachine<Ticket> Machine { get; }

        public TaskCompletionSource GuardEvaluating { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource CancelCommitting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void HoldGuard() => _releaseGuard.Reset();

        public void ReleaseGuard() => _releaseGuard.Set();

        public void ReleaseCancel() => _releaseCancel.Set();

        public void Dispose()
        {
            _releaseCancel.Set();
            _releaseGuard.Set();
            _releaseCancel.Dispose();
            _releaseGuard.Dispose();
        }

        private sealed class Sink(Race race) : ITransitionAuditSink
        {
            public void Write(TransitionRecord record)
            {
                if (record.Trigger == "cancel")
                {
                    race.CancelCommitting.TrySetResult();
                    race._releaseCancel.Wait();
                }
            }
        }
    }

    private static Task<T> OnItsOwnThread<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    [Fact]
    public async Task A_decision_whose_commit_is_taken_by_another_transition_decides_again_and_is_refused_as_stale()
    {
        // cancel holds the entity's lock (in its audit sink, before it writes); start decides on the unchanged snapshot,
        // its guard holds, and it reaches the commit only after cancel committed.
        using var race = new Race(guardHolds: true);
        var t = new Ticket();
        var cancel = OnItsOwnThread(() => race.Machine.TryFire(t, "cancel", Agent, "duplicate", "OPEN"));
        await race.CancelCommitting.Task.WaitAsync(TimeSpan.FromMinutes(2));
        var start = OnItsOwnThread(() => race.Machine.TryFire(t, "start", Agent, "picked up", "OPEN"));
        await race.GuardEvaluating.Task.WaitAsync(TimeSpan.FromMinutes(2));

        race.ReleaseCancel();

        Assert.True((await cancel.WaitAsync(TimeSpan.FromMinutes(2))).Accepted);
        Assert.Equal(TransitionResult.Reject(RejectionReason.StaleState, "CANCELLED", "start"), await start.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.Equal(("CANCELLED", 1L), (t.State, t.Version));
        Assert.Equal(["OPEN", "CANCELLED"], t.VisitedStates);
    }

    [Fact]
    public async Task A_guard_failure_seen_on_a_snapshot_that_changed_meanwhile_is_not_reported()
    {
        // start's guard fails while cancel commits: the failure belongs to a state the entity has left, so start decides
        // again and is refused as stale, not as a guard failure.
        using var race = new Race(guardHolds: false);
        race.HoldGuard();
        var t = new Ticket();
        var start = OnItsOwnThread(() => race.Machine.TryFire(t, "start", Agent, "picked up", "OPEN"));
        await race.GuardEvaluating.Task.WaitAsync(TimeSpan.FromMinutes(2));
        race.ReleaseCancel();

        Assert.True(race.Machine.TryFire(t, "cancel", Agent, "duplicate", "OPEN").Accepted);
        race.ReleaseGuard();

        Assert.Equal(TransitionResult.Reject(RejectionReason.StaleState, "CANCELLED", "start"), await start.WaitAsync(TimeSpan.FromMinutes(2)));
        Assert.Equal(("CANCELLED", 1L), (t.State, t.Version));
    }
}
