namespace Hardening.Fsm.Tests.Definition;

/// <summary>An entity with one field of each kind the rules look at.</summary>
public sealed class Gadget : StatefulEntity
{
    public Gadget(string state)
        : base(state)
    {
    }

    public bool Flag { get; private set; }

    public int Count { get; private set; }

    public bool Computed => Count > 0;

    public DateTime When { get; private set; }

    public bool? Maybe { get; private set; }
}

/// <summary>
/// One test per validation rule: a valid machine (A --go--> B, B terminal) with exactly one planted defect, and the
/// exact message the rule must give (its text is the user's only guide to the fix).
/// </summary>
public sealed class DefinitionRuleTests
{
    private static StateMachineBuilder<Gadget> Valid(string name = "gadgets")
    {
        var b = new StateMachineBuilder<Gadget>(name, g => g.State);
        b.InitialState("A");
        b.Configure("A").Permit("go", "B");
        b.Configure("B").Terminal();
        return b;
    }

    private static void AssertProblems(StateMachineBuilder<Gadget> b, params string[] expected)
    {
        var e = Assert.Throws<StateMachineDefinitionException>(() => b.Build());
        Assert.Equal(expected, e.Problems);
        Assert.Equal($"State machine '{b.Name}' has {expected.Length} problem(s):\n" + string.Join('\n', expected.Select(p => "- " + p)), e.Message);
    }

    private const string NameAdvice = "use letters, digits and '_' starting with a letter (at most 63 characters), such as 'LEFT_COMPANY' or 'make_offer'.";

    [Fact]
    public void The_valid_base_machine_builds() => Assert.Equal(2, Valid().Build().States.Count);

    [Theory]
    [InlineData("gadget machine")]
    [InlineData("1gadgets")]
    public void Invalid_machine_name(string name) =>
        AssertProblems(Valid(name), $"Invalid machine name '{name}': {NameAdvice}");

    [Fact]
    public void Names_of_63_characters_are_accepted_and_64_refused()
    {
        var ok = Valid();
        ok.Configure("A").Permit("t" + new string('x', 62), "C");
        ok.Configure("C").Terminal();
        Assert.NotNull(ok.Build());
        var name = "t" + new string('x', 63);
        var b = Valid();
        b.Configure("A").Permit(name, "C");
        b.Configure("C").Terminal();
        AssertProblems(b, $"Invalid trigger name '{name}': {NameAdvice}");
    }

    [Fact]
    public void Invalid_trigger_name()
    {
        var b = Valid();
        b.Configure("A").Permit("go-back", "C");
        b.Configure("C").Terminal();
        AssertProblems(b, $"Invalid trigger name 'go-back': {NameAdvice}");
    }

    [Fact]
    public void Invalid_guard_name()
    {
        var b = Valid();
        b.Configure("A").Permit("skip", "C").Guard("is ready?", _ => true);
        b.Configure("C").Terminal();
        AssertProblems(b, $"Invalid guard name 'is ready?': {NameAdvice}");
    }

    [Fact]
    public void Invalid_invariant_names_on_a_state_and_on_the_machine()
    {
        var b = Valid();
        b.Configure("B").Invariant("state rule", Condition.True);
        b.Invariant("_global", Condition.True);
        AssertProblems(b, $"Invalid invariant name 'state rule': {NameAdvice}", $"Invalid invariant name '_global': {NameAdvice}");
    }

    [Fact]
    public void Duplicate_invariant_name_across_a_state_and_the_machine()
    {
        var b = Valid();
        b.Configure("A").Invariant("positive", Condition.True);
        b.Configure("B").Invariant("positive", Condition.True);
        b.Invariant("positive", Condition.True);
        AssertProblems(b, "Invariant name 'positive' is used 3 times; each invariant needs its own name (it names a CHECK constraint).");
    }

    [Fact]
    public void Duplicate_column()
    {
        var b = Valid();
        b.ProtectedField(g => g.Flag, "flag");
        b.ProtectedField(g => g.Count, "flag");
        AssertProblems(b, "Column 'flag' is declared 2 times; declare each field once.");
    }

    [Theory]
    [InlineData("Flag")]
    [InlineData("is-flag")]
    [InlineData("1flag")]
    [InlineData("")]
    public void Column_name_that_is_not_a_plain_identifier(string column)
    {
        var b = Valid();
        b.ProtectedField(g => g.Flag, column);
        AssertProblems(b, $"Column name '{column}' is not a plain PostgreSQL identifier; use lower-case letters, digits and '_' (at most 63 characters), such as 'is_blacklisted'.");
    }

    [Theory]
    [InlineData("_flag")]
    [InlineData("flag_2")]
    public void Plain_column_names_are_accepted(string column)
    {
        var b = Valid();
        b.ProtectedField(g => g.Flag, column);
        Assert.NotNull(b.Build());
    }

    [Fact]
    public void Invariant_and_guard_that_use_another_builders_field()
    {
        var other = new StateMachineBuilder<Gadget>("other", g => g.State);
        var foreign = other.ProtectedField(g => g.Flag, "flag");
        var b = Valid();
        b.Invariant("flag_off", foreign.IsFalse());
        b.Configure("A").Permit("skip", "C").Guard("flag_on", foreign.IsTrue());
        b.Configure("C").Terminal();
        AssertProblems(
            b,
            "Guard 'flag_on' uses field 'flag' that was declared on another builder; declare fields on this builder.",
            "Invariant 'flag_off' uses field 'flag' that was declared on another builder; declare fields on this builder.");
    }

    [Fact]
    public void State_invariant_that_uses_another_builders_field()
    {
        var foreign = new StateMachineBuilder<Gadget>("other", g => g.State).ProtectedField(g => g.Count, "count");
        var b = Valid();
        b.Configure("B").Invariant("counted", foreign.GreaterThan(0));
        AssertProblems(b, "Invariant 'counted' uses field 'count' that was declared on another builder; declare fields on this builder.");
    }

    [Fact]
    public void Entry_effect_on_another_builders_field()
    {
        var foreign = new StateMachineBuilder<Gadget>("other", g => g.State).ProtectedField(g => g.Flag, "flag");
        var b = Valid();
        b.Configure("B").OnEntrySet(foreign, true);
        AssertProblems(b, "Entry effect of state 'B' sets field 'flag' that was declared on another builder.");
    }

    [Fact]
    public void Entry_effect_on_a_property_without_setter()
    {
        var b = Valid();
        var computed = b.Field(g => g.Computed, "computed");
        b.Configure("B").OnEntrySet(computed, true);
        AssertProblems(b, "Entry effect of state 'B' sets field 'computed', but Gadget.Computed has no setter; add a private setter.");
    }

    [Fact]
    public void Entry_effect_that_sets_a_field_twice()
    {
        var b = Valid();
        var count = b.ProtectedField(g => g.Count, "count");
        b.Configure("B").OnEntrySet(count, 1).OnEntrySet(count, 2);
        AssertProblems(b, "Entering 'B' sets field 'count' 2 times; set it once.");
    }

    [Fact]
    public void Machine_without_transitions()
    {
        var b = new StateMachineBuilder<Gadget>("gadgets", g => g.State);
        b.InitialState("A").Configure("A").Terminal();
        AssertProblems(b, "The machine has no transitions: use Configure(state).Permit(trigger, target).");
    }

    [Fact]
    public void History_requirement_on_an_unreachable_state()
    {
        var b = Valid();
        b.Configure("B").OnlyAfter("Z");
        b.Configure("Z").Terminal();
        AssertProblems(
            b,
            "Unreachable state 'Z': no path of transitions leads to it from the initial state 'A'.",
            "History requirement can never be met: 'B' only after 'Z', but 'Z' is unreachable.");
    }

    [Fact]
    public void History_requirement_on_an_undeclared_state_is_reported_once()
    {
        var b = Valid();
        b.Configure("B").OnlyAfter("NOWHERE");
        AssertProblems(b, "History requirement can never be met: 'B' only after 'NOWHERE', but state 'NOWHERE' is not declared.");
    }

    [Fact]
    public void An_empty_builder_reports_only_the_missing_initial_state() =>
        AssertProblems(new StateMachineBuilder<Gadget>("gadgets", g => g.State), "No initial state: call InitialState(\"...\") with the state new entities start in.");

    [Fact]
    public void The_initial_state_alone_is_declared_by_InitialState() =>
        AssertProblems(
            new StateMachineBuilder<Gadget>("gadgets", g => g.State).InitialState("A"),
            "The machine has no transitions: use Configure(state).Permit(trigger, target).",
            "Dead end: non-terminal state 'A' has no outgoing transitions; permit a trigger from it or mark it Terminal().");

    [Fact]
    public void Foreign_fields_are_found_inside_and_or_combinations()
    {
        var foreign = new StateMachineBuilder<Gadget>("other", g => g.State).ProtectedField(g => g.Flag, "flag");
        var b = Valid();
        var count = b.ProtectedField(g => g.Count, "count");
        b.Invariant("left_and", foreign.IsTrue() & count.GreaterThan(0));
        b.Invariant("right_and", count.GreaterThan(0) & foreign.IsTrue());
        b.Invariant("left_or", foreign.IsTrue() | count.GreaterThan(0));
        b.Invariant("right_or", count.GreaterThan(0) | foreign.IsTrue());
        AssertProblems(
            b,
            "Invariant 'left_and' uses field 'flag' that was declared on another builder; declare fields on this builder.",
            "Invariant 'right_and' uses field 'flag' that was declared on another builder; declare fields on this builder.",
            "Invariant 'left_or' uses field 'flag' that was declared on another builder; declare fields on this builder.",
            "Invariant 'right_or' uses field 'flag' that was declared on another builder; declare fields on this builder.");
    }

    /// <summary>Conditions that hold for no entity, each with its rendering, built without any state's effects.</summary>
    public static TheoryData<string, string> NeverTrue => new()
    {
        { "false", "false" },
        { "not true", "not true" },
        { "flag and false", "(flag = true and false)" },
        { "false or false", "(false or false)" },
        { "flag and not flag", "(flag = true and not flag = true)" },
    };

    private static Condition Never(StateMachineBuilder<Gadget> b, string which)
    {
        var flag = b.ProtectedField(g => g.Flag, "flag");
        return which switch
        {
            "false" => Condition.False,
            "not true" => !Condition.True,
            "flag and false" => flag.IsTrue() & Condition.False,
            "false or false" => Condition.False | Condition.False,
            _ => flag.IsTrue() & !flag.IsTrue(),
        };
    }

    [Theory]
    [MemberData(nameof(NeverTrue))]
    public void A_state_invariant_that_can_never_hold_is_refused(string which, string rendered)
    {
        var b = Valid();
        var c = Never(b, which);
        if (which == "flag and not flag")
        {
            // Not folded: the simplifier does not reason about a field against its own negation; only constants are.
            b.Configure("B").Invariant("never", c);
            Assert.Equal(2, b.Build().States.Count);
            return;
        }

        b.Configure("B").Invariant("never", c);
        AssertProblems(b, $"Invariant 'never' of state 'B' can never hold ({rendered}): no entity could ever enter 'B'.");
    }

    [Theory]
    [MemberData(nameof(NeverTrue))]
    public void A_machine_wide_invariant_that_can_never_hold_is_refused_once(string which, string rendered)
    {
        var b = Valid();
        var c = Never(b, which);
        if (which == "flag and not flag")
        {
            b.Invariant("never", c);
            Assert.Equal(2, b.Build().States.Count);
            return;
        }

        b.Invariant("never", c);
        b.Configure("B").OnEntrySet(b.ProtectedField(g => g.Count, "count"), 1);
        AssertProblems(b, $"Machine-wide invariant 'never' can never hold ({rendered}): no entity could be in any state.");
    }

    [Fact]
    public void Effect_setting_null_is_rendered_as_null()
    {
        var b = Valid();
        var maybe = b.ProtectedField(g => g.Maybe, "maybe");
        b.Configure("B").OnEntrySet(maybe, null);
        b.Invariant("maybe_known", maybe.IsNotNull());
        AssertProblems(b, "Effect contradicts invariant: entering 'B' sets maybe = null, which breaks invariant 'maybe_known' (not maybe is null).");
    }

    [Fact]
    public void Unsupported_field_types_are_refused_at_the_call()
    {
        var b = Valid();
        var e = Assert.Throws<ArgumentException>(() => b.Field(g => g.When, "when"));
        Assert.Equal("property", e.ParamName);
        Assert.StartsWith("Field 'when' has type DateTime; supported types are bool, int, long, decimal, Guid (or their nullable forms) and string.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_builder_method_refuses_null_arguments_naming_them()
    {
        var b = Valid();
        var flag = b.ProtectedField(g => g.Flag, "flag");
        var state = b.Configure("A");
        var transition = state.Permit("skip", "B");
        void Null(string param, Action call) => Assert.Equal(param, Assert.ThrowsAny<ArgumentException>(call).ParamName);
        Null("name", () => _ = new StateMachineBuilder<Gadget>(null!, g => g.State));
        Null("name", () => _ = new StateMachineBuilder<Gadget>(" ", g => g.State));
        Null("entityId", () => _ = new StateMachineBuilder<Gadget>("x", null!));
        Null("state", () => b.InitialState(null!));
        Null("state", () => b.Configure(null!));
        Null("name", () => b.Invariant(null!, Condition.True));
        Null("condition", () => b.Invariant("x", null!));
        Null("sink", () => b.UseAuditSink(null!));
        Null("timeProvider", () => b.UseTimeProvider(null!));
        Null("logger", () => b.UseLogger(null!));
        Null("meterFactory", () => b.UseMeterFactory(null!));
        Null("property", () => b.Field<bool>(null!, "x"));
        Null("column", () => b.Field(g => g.Flag, null!));
        Null("trigger", () => state.Permit(null!, "B"));
        Null("target", () => state.Permit("x", null!));
        Null("requiredState", () => state.OnlyAfter(null!));
        Null("name", () => state.Invariant(null!, Condition.True));
        Null("condition", () => state.Invariant("x", null!));
        Null("field", () => state.OnEntrySet<bool>(null!, true));
        Null("name", () => transition.Guard(null!, Condition.True));
        Null("condition", () => transition.Guard("x", (Condition)null!));
        Null("name", () => transition.Guard(null!, _ => true));
        Null("predicate", () => transition.Guard("x", (Func<Gadget, bool>)null!));
        Assert.NotNull(flag);
    }

    [Fact]
    public void The_single_message_constructors_keep_the_message_as_the_only_problem()
    {
        var plain = new StateMachineDefinitionException("broken");
        Assert.Equal(["broken"], plain.Problems);
        Assert.Equal("State machine 'machine' has 1 problem(s):\n- broken", plain.Message);
        var empty = new StateMachineDefinitionException();
        Assert.Equal(["The definition is invalid."], empty.Problems);
        Assert.Equal("State machine 'machine' has 1 problem(s):\n- The definition is invalid.", empty.Message);
        var inner = new InvalidOperationException("inner");
        var wrapped = new StateMachineDefinitionException("outer", inner);
        Assert.Equal(["outer"], wrapped.Problems);
        Assert.Equal("outer", wrapped.Message);
        Assert.Same(inner, wrapped.InnerException);
    }

    [Fact]
    public void History_requirement_met_through_a_later_transition_is_accepted()
    {
        var b = new StateMachineBuilder<Gadget>("gadgets", g => g.State);
        b.InitialState("A");
        b.Configure("A").Permit("go", "B").Permit("direct", "D");
        b.Configure("B").Permit("next", "C");
        b.Configure("C").Permit("finish", "D");
        b.Configure("D").Terminal().OnlyAfter("B");
        Assert.NotNull(b.Build());
    }

    [Fact]
    public void Full_messages_of_the_structural_rules()
    {
        var b = Valid();
        b.Configure("A").Permit("go", "C").Permit("also", "B").Permit("stay", "A");
        b.Configure("B").Permit("reopen", "A").Permit("undo", "A");
        b.Configure("C").Terminal();
        var e = Assert.Throws<StateMachineDefinitionException>(() => b.Build());
        Assert.Equal(
            [
                "Ambiguous transition: trigger 'go' from 'A' goes to 'B' and 'C'; use one trigger per target.",
                "Ambiguous transition: triggers 'go' and 'also' both go from 'A' to 'B'; the database sees only the status change and could not tell them apart, so use one trigger.",
                "Self-transition: trigger 'stay' from 'A' targets 'A' itself; a status that does not change is not a transition.",
                "Ambiguous transition: triggers 'reopen' and 'undo' both go from 'B' to 'A'; the database sees only the status change and could not tell them apart, so use one trigger.",
                "Terminal state 'B' has outgoing transitions ('reopen' to 'A', 'undo' to 'A'); a terminal state can never be left.",
            ],
            e.Problems);
    }

    [Fact]
    public void Effect_contradicting_an_invariant_names_the_values_and_the_condition()
    {
        var b = Valid();
        var flag = b.ProtectedField(g => g.Flag, "flag");
        var count = b.ProtectedField(g => g.Count, "count");
        b.Configure("B").OnEntrySet(flag, true).OnEntrySet(count, 0);
        b.Invariant("flag_needs_count", !flag.IsTrue() | count.GreaterThan(0));
        AssertProblems(b, "Effect contradicts invariant: entering 'B' sets flag = true, count = 0, which breaks invariant 'flag_needs_count' ((not flag = true or count > 0)).");
    }
}
