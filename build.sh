#!/usr/bin/env bash
# Hardening build entry point. Usage: ./build.sh <deps|test|sample|bench|pack|mutate> [args]
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

usage() {
  cat >&2 <<'USAGE'
usage: ./build.sh <command> [args]

  deps            install what is missing: postgresql-15, redis-server, prometheus (promtool), chromium (apt, as root)
  test            deps, build (Release, warnings as errors), run every test, print 'N passed, N failed, N skipped'
  sample          deps, start local PostgreSQL + Redis (unless HARDENING_PG / HARDENING_REDIS are set), run the sample ATS
  bench [filter]  run BenchmarkDotNet benchmarks (filter like '*Bcrypt*'; default: all); extra args pass through
  pack            pack every src package into artifacts/packages (.nupkg + .snupkg)
  mutate <Package> [Folder ...]
                  Stryker.NET mutation testing of a package's core folders (default: Auth Passwords Tokens, Fsm Machine
                  Definition Conditions, Rls Context Migrations, Sse Events Publishing), running only the tests in the
                  matching test folders; prints the score. Slow (tens of minutes on 2 cores), not part of CI.
                  MUTATE_CONCURRENCY (default 1) sets Stryker's --concurrency; MUTATE_TESTS=all runs the whole test project; reports go to artifacts/mutation/<Package>.
USAGE
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "$2" ]; }

cmd_deps() {
  local missing=()
  have initdb /usr/lib/postgresql/15/bin/initdb || missing+=(postgresql-15)
  have redis-server /usr/bin/redis-server || missing+=(redis-server)
  have promtool /usr/bin/promtool || missing+=(prometheus)
  have chromium /usr/bin/chromium || missing+=(chromium)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || { [[ " ${missing[*]} " == *" postgresql-15 "* ]] || missing+=(postgresql-15); }
  if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: postgresql-15, redis-server, prometheus and chromium are installed"
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing ${missing[*]}; install with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Installing a server package must not start its system service; the harness starts its own servers.
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
  fi
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  [ $own_policy -eq 0 ] || rm -f /usr/sbin/policy-rc.d
  # The apt packages may have started daemons on the default ports anyway; the tests do not use them.
  echo "deps: installed ${missing[*]}"
}

count() { # $1 = pattern, $2 = file: occurrences (grep -o), 0 when none
  { grep -o "$1" "$2" || true; } | wc -l
}

summarise() { # $1 = results dir; prints 'passed failed skipped' over every .trx file
  local dir=$1 passed=0 failed=0 skipped=0 f
  for f in "$dir"/*.trx; do
    [ -e "$f" ] || continue
    passed=$((passed + $(count '<UnitTestResult [^>]*outcome="Passed"' "$f")))
    failed=$((failed + $(count '<UnitTestResult [^>]*outcome="Failed"' "$f")))
    skipped=$((skipped + $(count '<UnitTestResult [^>]*outcome="NotExecuted"' "$f")))
  done
  echo "$passed $failed $skipped"
}

cmd_test() {
  cmd_deps
  echo "== build (Release, warnings as errors)"
  dotnet build Hardening.sln -c Release -warnaserror -nologo -clp:ErrorsOnly
  local results="$ROOT/artifacts/test-results"
  rm -rf "$results"; mkdir -p "$results"
  echo "== test"
  local rc=0 proj name
  # One test project at a time, each with its own results file (a solution-wide run names .trx files by the
  # second and can overwrite one with another).
  for proj in tests/*.Tests/*.Tests.csproj; do
    name=$(basename "$proj" .csproj)
    dotnet test "$proj" -c Release --no-build --nologo \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" --results-directory "$results" \
      --blame-hang-timeout 10m || rc=$?
  done
  read -r passed failed skipped < <(summarise "$results")
  if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "dotnet test exited $rc without a failed test result (a test host crashed or hung); counting it as a failure" >&2
    failed=1
  fi
  echo "$passed passed, $failed failed, $skipped skipped"
  if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
    [ "$passed" -eq 0 ] && echo "no test passed: treating the run as failed" >&2
    return 1
  fi
}

cmd_pack() {
  rm -rf "$ROOT/artifacts/packages"
  dotnet pack Hardening.sln -c Release -warnaserror -nologo -clp:ErrorsOnly -o "$ROOT/artifacts/packages"
  ls -1 "$ROOT/artifacts/packages"
}

cmd_bench() {
  local filter=${1:-*}
  [ $# -gt 0 ] && shift
  dotnet run -c Release --project benchmarks/Hardening.Benchmarks -- --filter "$filter" "$@"
}

cmd_mutate() {
  local package=${1:-}
  [ -n "$package" ] || { echo "mutate: name a package, e.g. ./build.sh mutate Auth" >&2; return 2; }
  package=${package#Hardening.}
  shift
  local folders=("$@")
  if [ ${#folders[@]} -eq 0 ]; then
    case "$package" in
      Auth) folders=(Passwords Tokens) ;;
      Fsm) folders=(Machine Definition Conditions) ;;
      Rls) folders=(Context Migrations) ;;
      Sse) folders=(Events Publishing) ;;
      *) echo "mutate: no default core folders for '$package'; name them: ./build.sh mutate $package Folder..." >&2; return 2 ;;
    esac
  fi
  local src="$ROOT/src/Hardening.$package" tests="$ROOT/tests/Hardening.$package.Tests"
  [ -d "$src" ] && [ -d "$tests" ] || { echo "mutate: src/Hardening.$package or tests/Hardening.$package.Tests is missing" >&2; return 2; }
  cmd_deps
  dotnet tool restore >/dev/null
  local out="$ROOT/artifacts/mutation/$package" mutate="" filter="" f
  rm -rf "$out"; mkdir -p "$out"
  for f in "${folders[@]}"; do
    [ -d "$src/$f" ] || { echo "mutate: src/Hardening.$package/$f does not exist" >&2; return 2; }
    mutate+="${mutate:+, }\"**/$f/**/*.cs\""
    filter+="${filter:+|}FullyQualifiedName~Hardening.$package.Tests.$f."
  done
  # MUTATE_TESTS=all runs every test of the package's test project against each mutant (slower, catches mutants that
  # only another folder's tests kill, such as SQL rendering checked by the PostgreSQL tests).
  [ "${MUTATE_TESTS:-}" = all ] && filter="FullyQualifiedName~Hardening.$package.Tests."
  # Stryker reads test-case-filter only from a config file.
  cat > "$out/stryker-config.json" <<CONFIG
{
  "stryker-config": {
    "project": "Hardening.$package.csproj",
    "mutate": [ $mutate ],
    "test-case-filter": "$filter",
    "concurrency": ${MUTATE_CONCURRENCY:-1},
    "reporters": [ "progress", "cleartext", "html", "json" ],
    "thresholds": { "high": 80, "low": 60, "break": 0 }
  }
}
CONFIG
  # Stryker starts a test host per mutant: one PostgreSQL and one Redis for the whole run, instead of one per host.
  # Globals, not locals: the EXIT trap runs after this function has returned.
  MUTATE_TMP=$(mktemp -d /tmp/hardening-mutate-XXXXXX)
  MUTATE_PIDS=()
  local tmp=$MUTATE_TMP
  mutate_cleanup() {
    local p
    for p in "${MUTATE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -d "$MUTATE_TMP/pg" ]; then
      if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$MUTATE_TMP/pg" -m immediate stop >/dev/null 2>&1 || true
      else /usr/lib/postgresql/15/bin/pg_ctl -D "$MUTATE_TMP/pg" -m immediate stop >/dev/null 2>&1 || true; fi
    fi
    rm -rf "$MUTATE_TMP"
  }
  trap mutate_cleanup EXIT
  trap 'mutate_cleanup; exit 130' INT
  trap 'mutate_cleanup; exit 143' TERM
  free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
  if [ -z "${HARDENING_TEST_PG:-}" ]; then
    local pgport as=(); pgport=$(free_port)
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$tmp"; as=(runuser -u postgres --); fi
    "${as[@]}" /usr/lib/postgresql/15/bin/initdb -D "$tmp/pg" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
    "${as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -l "$tmp/pg.log" -w \
      -o "-c port=$pgport -c listen_addresses=127.0.0.1 -c unix_socket_directories=$tmp -c max_connections=300 -c fsync=off" start >/dev/null
    export HARDENING_TEST_PG="Host=127.0.0.1;Port=$pgport;Username=postgres;Database=postgres"
  fi
  if [ -z "${HARDENING_TEST_REDIS:-}" ]; then
    local rport; rport=$(free_port)
    redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning >/dev/null &
    MUTATE_PIDS+=($!)
    export HARDENING_TEST_REDIS="127.0.0.1:$rport"
  fi
  echo "mutate: Hardening.$package folders ${folders[*]}; tests: $filter"
  (cd "$tests" && dotnet stryker --config-file "$out/stryker-config.json" --output "$out") | tee "$out/stryker.log"
  local score
  score=$(grep -o 'The final mutation score is [0-9.]*' "$out/stryker.log" | tail -1 | grep -o '[0-9.]*$' || true)
  echo "mutation score Hardening.$package (${folders[*]}): ${score:-unknown}%"
}

cmd_sample() {
  cmd_deps
  local pids=() tmp
  tmp=$(mktemp -d /tmp/hardening-sample-XXXXXX)
  cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    local _ alive
    for _ in $(seq 1 50); do
      alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ "$alive" -eq 0 ] && break
      sleep 0.1
    done
    if [ -d "$tmp/pg" ]; then
      if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -m fast stop >/dev/null 2>&1 || true
      else /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -m fast stop >/dev/null 2>&1 || true; fi
    fi
    rm -rf "$tmp"
  }
  # The host runs in the background and the script waits for it, so a TERM or INT sent to this script (a supervisor,
  # `kill`, Ctrl+C) runs the cleanup at once instead of after the host exits; the cleanup stops the host too.
  trap cleanup EXIT
  trap 'cleanup; exit 130' INT
  trap 'cleanup; exit 143' TERM
  free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
  if [ -z "${HARDENING_PG:-}" ]; then
    local pgport; pgport=$(free_port)
    local as=()
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$tmp"; as=(runuser -u postgres --); fi
    "${as[@]}" /usr/lib/postgresql/15/bin/initdb -D "$tmp/pg" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
    "${as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -l "$tmp/pg.log" -w \
      -o "-c port=$pgport -c listen_addresses=127.0.0.1 -c unix_socket_directories=$tmp" start >/dev/null
    export HARDENING_PG="Host=127.0.0.1;Port=$pgport;Username=postgres;Database=postgres"
    echo "sample: PostgreSQL on 127.0.0.1:$pgport (data in $tmp, removed on exit)"
  fi
  if [ -z "${HARDENING_REDIS:-}" ]; then
    local rport; rport=$(free_port)
    redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly yes --dir "$tmp" --loglevel warning &
    pids+=($!)
    export HARDENING_REDIS="127.0.0.1:$rport"
    echo "sample: Redis on 127.0.0.1:$rport"
  fi
  local url=${HARDENING_SAMPLE_URL:-http://127.0.0.1:5080}
  dotnet build samples/Hardening.Samples.Ats -c Release -nologo -clp:ErrorsOnly >/dev/null
  echo "sample: ATS host listening on $url (Ctrl+C to stop)"
  ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development} \
    dotnet samples/Hardening.Samples.Ats/bin/Release/net10.0/Hardening.Samples.Ats.dll --urls "$url" &
  pids+=($!)
  wait "$!"
}

case "${1:-}" in
  deps) cmd_deps ;;
  test) cmd_test ;;
  sample) cmd_sample ;;
  bench) shift; cmd_bench "$@" ;;
  pack) cmd_pack ;;
  mutate) shift; cmd_mutate "$@" ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac
