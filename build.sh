#!/usr/bin/env bash
# Hardening build entry point. Usage: ./build.sh <deps|test|sample|bench|pack|api|mutate|drill> [args]
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

usage() {
  cat >&2 <<'USAGE'
usage: ./build.sh <command> [args]

  deps            install what is missing: postgresql-15, redis-server, prometheus (promtool), chromium, haproxy,
                  pgbouncer (apt, as root)
  test            deps, build (Release, warnings as errors), run every test, print 'N passed, N failed, N skipped'
  sample          deps, start local PostgreSQL + Redis (unless HARDENING_PG / HARDENING_REDIS are set), run the sample ATS
  bench [filter]  run BenchmarkDotNet benchmarks (filter like '*Bcrypt*'; default: all); extra args pass through
  pack [dir]      pack the packages under src/ into dir (default artifacts/packages): .nupkg + .snupkg with Source Link
  api [X...]      after an intended public API change: record it in src/Hardening.X/PublicAPI.Unshipped.txt
                  (new API added, removed API deleted or marked *REMOVED*); default: every package
  api ship [X...] move PublicAPI.Unshipped.txt into PublicAPI.Shipped.txt (at a release)
  drill <name> [--instances N] [--redis single|cluster] [--quick] [...]
                  reliability drills on real servers (load, burst, faults, backup; see docs/operations.md); prints
                  figures, writes artifacts/drills/<name>.json, exits 1 if anything was lost, duplicated or crossed tenants
  mutate <Package> [Folder ...]
                  Stryker.NET mutation testing of a package's core folders (default: Auth Passwords Tokens, Fsm Machine
                  Definition Conditions, Rls Context Migrations, Sse Events Publishing), running only the tests in the
                  matching test folders; prints the score. Slow (tens of minutes on 2 cores), not part of CI.
                  MUTATE_CONCURRENCY (default 1) sets Stryker's --concurrency; MUTATE_TESTS=all runs the whole test project;
                  MUTATE_EXCLUDE='Folder/File.cs ...' leaves files out, MUTATE_SKIP_TESTS='Class ...' leaves tests out
                  (Auth defaults: the bcrypt core and the Redis failover trials); reports go to artifacts/mutation/<Package>.
USAGE
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "$2" ]; }

cmd_deps() {
  local missing=()
  have initdb /usr/lib/postgresql/15/bin/initdb || missing+=(postgresql-15)
  have redis-server /usr/bin/redis-server || missing+=(redis-server)
  have promtool /usr/bin/promtool || missing+=(prometheus)
  have chromium /usr/bin/chromium || missing+=(chromium)
  have haproxy /usr/sbin/haproxy || missing+=(haproxy)
  have pgbouncer /usr/sbin/pgbouncer || missing+=(pgbouncer)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || { [[ " ${missing[*]} " == *" postgresql-15 "* ]] || missing+=(postgresql-15); }
  if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: postgresql-15, redis-server, prometheus, chromium, haproxy and pgbouncer are installed"
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

packages_slnf() { # $1 = file to write; $2.. = projects (default: every package under src/). A solution filter of them.
  local file=$1 first=1 proj
  shift
  [ $# -gt 0 ] || set -- src/*/*.csproj
  {
    printf '{"solution":{"path":"%s","projects":[' "$ROOT/Hardening.sln"
    for proj in "$@"; do
      [ $first -eq 1 ] || printf ','
      printf '"%s"' "$proj"
      first=0
    done
    printf ']}}\n'
  } > "$file"
}

cmd_pack() {
  # Only the packages under src/ are packed (samples, tests, tools and benchmarks are IsPackable=false). They are built
  # as a ContinuousIntegrationBuild (source paths mapped to /_/, Source Link to $(RepositoryUrl) at the HEAD commit) in
  # a tree of their own, artifacts/pack-build, so a local non-CI build never ends up in a package. One pack at a time.
  local out=${1:-$ROOT/artifacts/packages}
  mkdir -p "$ROOT/artifacts/pack-build" "$out"
  out=$(cd "$out" && pwd)
  exec 9> "$ROOT/artifacts/pack-build/.lock"
  flock 9
  rm -f "$out"/*.nupkg "$out"/*.snupkg
  packages_slnf "$ROOT/artifacts/pack-build/packages.slnf"
  dotnet pack "$ROOT/artifacts/pack-build/packages.slnf" -c Release -warnaserror -nologo -clp:ErrorsOnly \
    --artifacts-path "$ROOT/artifacts/pack-build" -p:ContinuousIntegrationBuild=true -p:PackageOutputPath="$out/"
  ls -1 "$out"
}

api_projects() { # $@ = package names (Hardening.X or X); none = every package under src/
  if [ $# -eq 0 ]; then
    ls src/*/*.csproj
    return
  fi
  local p
  for p in "$@"; do
    p=${p#src/}; p=${p%/}; p=${p#Hardening.}
    if [ ! -f "src/Hardening.$p/Hardening.$p.csproj" ]; then
      echo "api: no package src/Hardening.$p" >&2
      return 2
    fi
    echo "src/Hardening.$p/Hardening.$p.csproj"
  done
}

api_ensure_files() { # $1 = package dir: both baseline files exist and start with '#nullable enable'
  local f
  for f in "$1/PublicAPI.Shipped.txt" "$1/PublicAPI.Unshipped.txt"; do
    [ -f "$f" ] || : > "$f"
    if [ "$(head -n 1 "$f")" != "#nullable enable" ]; then
      { echo "#nullable enable"; cat "$f"; } > "$f.tmp" && mv "$f.tmp" "$f"
    fi
  done
}

api_build() { # $1 = solution filter, $2 = log: builds with the analyzers' findings as warnings; prints RS00xx lines once each
  dotnet build "$1" -c Release -nologo -p:TreatWarningsAsErrors=false -clp:NoSummary > "$2" 2>&1 || true
  if grep -qE ': error [A-Z]+[0-9]+:' "$2"; then
    grep -E ': error [A-Z]+[0-9]+:' "$2" | sort -u >&2
    echo "api: the packages do not compile; fix the errors above first" >&2
    return 1
  fi
  { grep -E ': warning RS00[0-9]{2}:' "$2" || true; } | sed 's/ \[[^]]*\]$//' | sort -u
}

cmd_api() {
  if [ "${1:-}" = ship ]; then
    shift
    cmd_api_ship "$@"
    return
  fi
  local projects proj dir work diags mine n
  projects=$(api_projects "$@")
  work=$(mktemp -d)
  trap "rm -rf '$work'" EXIT
  # shellcheck disable=SC2086
  packages_slnf "$work/api.slnf" $projects
  for proj in $projects; do api_ensure_files "$(dirname "$proj")"; done
  diags=$(api_build "$work/api.slnf" "$work/build.log")
  for proj in $projects; do
    dir=$(dirname "$proj")
    mine=$({ grep -F "$ROOT/$dir/" <<<"$diags" || true; })
    # RS0017: a declared symbol is gone. Its line in Unshipped is deleted; a line of Shipped is marked removed in
    # Unshipped ('*REMOVED*' + the line), as the analyzer expects. Found by the file and line the analyzer reports.
    for n in $({ grep -E 'PublicAPI\.Unshipped\.txt\([0-9]+,[0-9]+\): warning RS0017:' <<<"$mine" || true; } | sed -E 's/.*\.txt\(([0-9]+),.*/\1/' | sort -n -r -u); do
      sed -i "${n}d" "$dir/PublicAPI.Unshipped.txt"
    done
    for n in $({ grep -E 'PublicAPI\.Shipped\.txt\([0-9]+,[0-9]+\): warning RS0017:' <<<"$mine" || true; } | sed -E 's/.*\.txt\(([0-9]+),.*/\1/' | sort -n -u); do
      echo "*REMOVED*$(sed -n "${n}p" "$dir/PublicAPI.Shipped.txt")" >> "$dir/PublicAPI.Unshipped.txt"
    done
    # RS0016: a public symbol is not declared; the analyzer's own code fix adds it to Unshipped.
    if grep -q ': warning RS0016:' <<<"$mine"; then
      echo "api: declaring the new public API of $proj"
      dotnet format analyzers "$proj" --diagnostics RS0016 --severity warn --no-restore > "$work/format.log" 2>&1 \
        || { cat "$work/format.log" >&2; return 1; }
    fi
  done
  # What is left needs a decision in code.
  diags=$(api_build "$work/api.slnf" "$work/build.log")
  git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt' || true
  if [ -n "$diags" ]; then
    echo "$diags" >&2
    echo "api: public API findings remain (above)" >&2
    return 1
  fi
  echo "api: every public API is declared in src/*/PublicAPI.{Shipped,Unshipped}.txt"
}

cmd_api_ship() { # Unshipped -> Shipped: added lines join Shipped, '*REMOVED*' lines leave it; Unshipped keeps its header
  local projects proj dir
  projects=$(api_projects "$@")
  for proj in $projects; do
    dir=$(dirname "$proj")
    api_ensure_files "$dir"
    awk 'FNR == NR { if (FNR > 1 && $0 != "") { if (substr($0, 1, 9) == "*REMOVED*") gone[substr($0, 10)] = 1; else add[$0] = 1 } next }
         FNR > 1 && $0 != "" && !($0 in gone) { add[$0] = 1 }
         END { for (l in add) print l }' "$dir/PublicAPI.Unshipped.txt" "$dir/PublicAPI.Shipped.txt" \
      | LC_ALL=C sort > "$dir/PublicAPI.Shipped.txt.tmp"
    { echo "#nullable enable"; cat "$dir/PublicAPI.Shipped.txt.tmp"; } > "$dir/PublicAPI.Shipped.txt"
    rm -f "$dir/PublicAPI.Shipped.txt.tmp"
    echo "#nullable enable" > "$dir/PublicAPI.Unshipped.txt"
  done
  git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt' || true
}

cmd_drill() {
  [ $# -gt 0 ] || { echo "drill: name a drill: load, burst, faults or backup" >&2; return 2; }
  cmd_deps
  dotnet build tools/Hardening.Drills -c Release -nologo -clp:ErrorsOnly >/dev/null
  dotnet tools/Hardening.Drills/bin/Release/net10.0/hardening-drill.dll "$@"
}

cmd_bench() {
  local filter=${1:-*}
  [ $# -gt 0 ] && shift
  dotnet run -c Release --project benchmarks/Hardening.Benchmarks -- --filter "$filter" "$@"
}

# State of `sample` at script scope: the EXIT/INT/TERM traps run outside cmd_sample, where its locals are gone.
SAMPLE_TMP='' SAMPLE_PIDS=() SAMPLE_CLEANED=0
sample_cleanup() {
  [ "$SAMPLE_CLEANED" -eq 1 ] && return 0
  SAMPLE_CLEANED=1
  local p _ alive
  for p in "${SAMPLE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0
    for p in "${SAMPLE_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${SAMPLE_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ -n "$SAMPLE_TMP" ] && [ -d "$SAMPLE_TMP/pg" ]; then
    local as=(); [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
    "${as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$SAMPLE_TMP/pg" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || "${as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$SAMPLE_TMP/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "$SAMPLE_TMP" ] && rm -rf "$SAMPLE_TMP"
  return 0
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
  # Left out by default (MUTATE_EXCLUDE / MUTATE_SKIP_TESTS override): Auth's bcrypt core and its constant tables
  # (hours on 2 cores; the core is held by published vectors and two independent implementations, libxcrypt and
  # BCrypt.Net-Next, in every test run), the tests whose subject is that core (BCryptTests, BCryptNetNextOracleTests:
  # thousands of hashes; Stryker still instruments excluded files, so each hash runs the core's mutant switches), the
  # Redis failover trials (a minute each; they assert fault behaviour on a cluster, not the mutated code paths) and the
  # cluster run of the Redis store tests (the same tests as on one server, the same code path; each test process would
  # start a 6-node cluster, and the slot-move and FLUSHALL cases two more, for every mutant they cover).
  local exclude=${MUTATE_EXCLUDE-} skip_tests=${MUTATE_SKIP_TESTS-}
  if [ "$package" = Auth ]; then
    [ -n "${MUTATE_EXCLUDE+x}" ] || exclude="Passwords/BCrypt.cs Passwords/BlowfishInitialState.cs"
    [ -n "${MUTATE_SKIP_TESTS+x}" ] || skip_tests="ReplayGuardFailoverTests RedisTokenReplayStoreOnClusterTests BCryptTests BCryptNetNextOracleTests"
  fi
  for f in $exclude; do mutate+=", \"!**/$f\""; done
  [ -n "$skip_tests" ] && filter="($filter)"
  for f in $skip_tests; do filter+="&FullyQualifiedName!~$f"; done
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
  # Every exit path (end of host, crash, port taken, set -e failure, TERM, INT) stops what was started and removes the data.
  trap sample_cleanup EXIT
  trap 'sample_cleanup; exit 130' INT
  trap 'sample_cleanup; exit 143' TERM
  local url=${HARDENING_SAMPLE_URL:-http://127.0.0.1:5080}
  local hostport; hostport=$(python3 -c 'import sys,urllib.parse as u;print(u.urlsplit(sys.argv[1]).port or 80)' "$url")
  if (exec 3<>"/dev/tcp/127.0.0.1/$hostport") 2>/dev/null; then
    echo "sample: port $hostport is already taken; set HARDENING_SAMPLE_URL to another address" >&2
    return 1
  fi
  SAMPLE_TMP=$(mktemp -d /tmp/hardening-sample-XXXXXX)
  local tmp=$SAMPLE_TMP
  free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
  local owner=${HARDENING_PG:-} app redis=${HARDENING_REDIS:-}
  if [ -z "$owner" ]; then
    local pgport; pgport=$(free_port)
    local as=()
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$tmp"; as=(runuser -u postgres --); fi
    "${as[@]}" /usr/lib/postgresql/15/bin/initdb -D "$tmp/pg" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
    "${as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -l "$tmp/pg.log" -w \
      -o "-c port=$pgport -c listen_addresses=127.0.0.1 -c unix_socket_directories=$tmp" start >/dev/null
    owner="Host=127.0.0.1;Port=$pgport;Username=postgres;Database=postgres"
    echo "sample: PostgreSQL on 127.0.0.1:$pgport (data in $tmp, removed on exit)"
  fi
  if [ -z "$redis" ]; then
    local rport; rport=$(free_port)
    redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly yes --dir "$tmp" --loglevel warning &
    SAMPLE_PIDS+=($!)
    redis="127.0.0.1:$rport"
    echo "sample: Redis on 127.0.0.1:$rport"
  fi
  # The migration runs as the owner role; the host connects as the plain application role the migration creates.
  app=$(python3 -c 'import sys;print(";".join(p for p in sys.argv[1].split(";") if p and not p.strip().lower().startswith(("username=","user id=","userid=","user=","password=")))+";Username=ats_app")' "$owner")
  dotnet build samples/Hardening.Samples.Ats -c Release -nologo -clp:ErrorsOnly >/dev/null
  local bin=$ROOT/samples/Hardening.Samples.Ats/bin/Release/net10.0 dll
  dll=$bin/Hardening.Samples.Ats.dll
  export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
  ConnectionStrings__Owner=$owner dotnet "$dll" migrate --contentRoot "$bin"
  ConnectionStrings__Postgres=$app ConnectionStrings__Redis=$redis dotnet "$dll" --contentRoot "$bin" --urls "$url" &
  local host=$!
  SAMPLE_PIDS+=("$host")
  local up=0 _
  for _ in $(seq 1 600); do
    kill -0 "$host" 2>/dev/null || break
    if curl -fsS -o /dev/null "$url/health/live" 2>/dev/null; then up=1; break; fi
    sleep 0.2
  done
  if [ "$up" -eq 1 ]; then
    cat <<EOF
sample: ATS host listening on $url (pid $host; Ctrl+C to stop)
  web page   $url/   API reference $url/scalar   OpenAPI $url/openapi/v1.json
  logins     tenant 11111111-1111-4111-8111-111111111111  alice@acme.example / sample-password-acme
             tenant 22222222-2222-4222-8222-222222222222  bob@globex.example / sample-password-globex
  try        T=\$(curl -s $url/api/auth/login -H 'Content-Type: application/json' \\
               -d '{"tenant":"11111111-1111-4111-8111-111111111111","email":"alice@acme.example","password":"sample-password-acme"}' \\
               | python3 -c 'import sys,json;print(json.load(sys.stdin)["accessToken"])')
             curl -s $url/api/candidates -H "Authorization: Bearer \$T"
             curl -s $url/api/candidates -H "Authorization: Bearer \$T" -H 'Content-Type: application/json' \\
               -H "Idempotency-Key: \$(cat /proc/sys/kernel/random/uuid)" -d '{"name":"Ada Lovelace","email":"ada@example.org"}'
             curl -sN $url/api/events -H "Authorization: Bearer \$T"
EOF
  fi
  local rc=0
  wait "$host" || rc=$?
  [ "$up" -eq 1 ] || echo "sample: the host exited (code $rc) before it listened on $url" >&2
  [ "$rc" -ne 0 ] || rc=1   # the host ends on its own only when something went wrong
  echo "sample: host exited with code $rc; stopping PostgreSQL and Redis" >&2
  return "$rc"
}

case "${1:-}" in
  deps) cmd_deps ;;
  test) cmd_test ;;
  sample) cmd_sample ;;
  bench) shift; cmd_bench "$@" ;;
  pack) shift; cmd_pack "$@" ;;
  api) shift; cmd_api "$@" ;;
  mutate) shift; cmd_mutate "$@" ;;
  drill) shift; cmd_drill "$@" ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac
