using Hardening.Fsm.Tests.Pipeline;
using static Hardening.Fsm.Tests.Pipeline.CandidatePipeline;

namespace Hardening.Fsm.Tests.Machine;

/// <summary>An entity's constructor, a restored entity's history, and the seqlock a decision reads it under.</summary>
public sealed class StatefulEntityTests
{
    private static readonly Actor Recruiter = Actor.User("recruiter-7");

    [Fact]
    public void A_missing_or_blank_state_is_refused_with_the_parameter_name()
    {
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => Candidate.Load(1, null!, false, null, false)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => Candidate.Load(1, "", false, null, false)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => Candidate.Load(1, " \t", false, null, false)).ParamName);
    }

    [Fact]
    public void A_restored_entity_lists_its_current_state_first_and_each_visited_state_once()
    {
        var c = Candidate.Load(1, Interview, false, null, false, 2, [Applied, Interview, Screening, Applied, Screening]);

        Assert.Equal([Interview, Applied, Screening], c.VisitedStates);
        Assert.Equal((Interview, 2L), (c.State, c.Version));
    }

    [Fact]
    public void A_restored_entity_keeps_its_history_through_transitions()
    {
        var m = Build();
        var c = Candidate.Load(1, Interview, false, 10, false, 2, [Applied, Screening]);

        Assert.True(m.TryFire(c, "make_offer", Recruiter, "offer", Interview).Accepted);

        Assert.Equal([Interview, Applied, Screening, Offer], c.VisitedStates);
        Assert.Equal(3, c.Version);
    }

    [Fact]
    public void The_state_a_restored_entity_is_in_counts_as_visited_for_history_requirements()
    {
        // LEFT_COMPANY may only be entered after JOINED; a candidate loaded in JOINED with no stored history has been there.
        var m = Build();
        var c = Candidate.Load(1, Joined, false, 10, true, 4);

        var r = m.TryFire(c, "leave", Recruiter, "resigned", Joined);

        Assert.True(r.Accepted, r.ToString());
        Assert.Equal([Joined, LeftCompany], c.VisitedStates);
    }

    [Theory]
    [InlineData(new[] { Applied, Screening }, RejectionReason.HistoryMissing)]
    [InlineData(new[] { Applied, Screening, Interview }, RejectionReason.None)]
    public void A_restored_entity_is_held_to_its_stored_history(string[] visited, RejectionReason expected)
    {
        // JOINED may only be entered after INTERVIEW (the referral fast track skips it).
        var m = Build();
        var c = Candidate.Load(1, Offer, false, 10, true, 3, visited);

        var r = m.TryFire(c, "hire", Recruiter, "signed", Offer);

        Assert.Equal(expected, r.Reason);
        Assert.Equal(expected == RejectionReason.None ? Joined : Offer, c.State);
    }

    /// <summary>
    /// A decision that starts while another thread applies a transition (entry effects written, state not yet) must not
    /// read the half-written entity: it waits for the writer and then decides on the result. The writer is held in the
    /// middle of its write by this test (the machine's own steps: lock, begin, effect, commit, end), and the reader's
    /// wait is observed through <see cref="StatefulEntity.OnWaitingForWriter"/>, so the interleaving is exact.
    /// </summary>
    [Fact]
    public async Task A_decision_that_arrives_during_a_transition_waits_for_it_and_decides_on_its_result()
    {
        var m = Build();
        var c = Candidate.Load(5, Interview, false, 100, false, 2, [Applied, Screening]);
        await using var writer = HeldWriter.Start(c);

        var reader = OnItsOwnThread(() => m.TryFire(c, "make_offer", Recruiter, "offer", Interview));

        var waited = await writer.WaitedForFirstAsync(reader);
        Assert.True(waited, waited ? null : $"decided during the write: {await reader}");

        await writer.FinishAsync();
        var r = await reader.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(TransitionResult.Reject(RejectionReason.StaleState, Withdrawn, "make_offer"), r);
        Assert.Equal((Withdrawn, 3L), (c.State, c.Version));
    }

    [Fact]
    public async Task A_stale_request_is_refused_at_once_without_waiting_for_a_transition_in_progress()
    {
        var m = Build();
        var c = Candidate.Load(5, Interview, false, 100, false, 2, [Applied, Screening]);
        await using var writer = HeldWriter.Start(c);

        var reader = OnItsOwnThread(() => m.TryFire(c, "screen", Recruiter, "late click", Applied));

        Assert.False(await writer.WaitedForFirstAsync(reader), "the stale request waited for the writer");
        Assert.Equal(TransitionResult.Reject(RejectionReason.StaleState, Interview, "screen"), await reader);
    }

    private static Task<T> OnItsOwnThread<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// A transition to WITHDRAWN held half-way on its own thread, the machine's steps in order: lock, begin the write, an
    /// entry effect (clearing the salary), then, once released, the new state and the end of the write.
    /// <see cref="WaitedForFirstAsync"/> tells whether a reader of the entity found the write in progress and waited.
    /// </summary>
    private sealed class HeldWriter : IAsyncDisposable
    {
        private readonly TaskCompletionSource _waiting = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _release = new();
        private Task _thread = Task.CompletedTask;

        /// <summary>True when the reader started waiting for this writer before it decided, false when it decided first.</summary>
        public async Task<bool> WaitedForFirstAsync(Task reader)
        {
            // The delay is a hang guard only: a correct reader decides or signals its wait at once, whatever the load.
            var first = await Task.WhenAny(reader, _waiting.Task, Task.Delay(TimeSpan.FromMinutes(2)));
            Assert.True(first == reader || first == _waiting.Task, "the reader neither decided nor waited");
            return first == _waiting.Task;
        }

        public static HeldWriter Start(Candidate c)
        {
            var w = new HeldWriter();
            var holding = new ManualResetEventSlim();
            StatefulEntity.OnWaitingForWriter = e =>
            {
                if (ReferenceEquals(e, c))
                {
                    w._waiting.TrySetResult();
                }
            };
            w._thread = Task.Factory.StartNew(
                () =>
                {
                    c.Gate.Enter();
                    try
                    {
                        c.BeginWrite();
                        c.ExpectedSalary = null;
                        holding.Set();
                        w._release.Wait();
                        c.Commit(Withdrawn);
                    }
                    finally
                    {
                        c.EndWrite();
                        c.Gate.Exit();
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            holding.Wait();
            holding.Dispose();
            return w;
        }

        public async Task FinishAsync()
        {
            _release.Set();
            await _thread;
        }

        public async ValueTask DisposeAsync()
        {
            await FinishAsync();
            StatefulEntity.OnWaitingForWriter = null;
            _release.Dispose();
        }
    }
}
