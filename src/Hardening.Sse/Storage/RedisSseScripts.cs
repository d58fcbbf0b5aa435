namespace Hardening.Sse;

/// <summary>
/// The Lua scripts of <see cref="RedisSseStore"/>. Each takes the stream's two keys (<c>:meta</c>, <c>:log</c>), which
/// share the stream's hash tag, so each runs atomically in one cluster slot.
/// </summary>
internal static class RedisSseScripts
{
    // Shared by both scripts: trims entries older than ARGV[minTs] (at most 64 per call, oldest first). Looks at the
    // oldest entry alone first: in the steady state it is young enough, and fetching 64 entries on every append
    // dominated the script's cost.
    private const string TrimByAge = """
        local function ts_of(e)
          local f = e[2]
          for i = 1, #f, 2 do if f[i] == 'ts' then return tonumber(f[i + 1]) end end
          return nil
        end
        local function trim_by_age(log, min_ts)
          if min_ts <= 0 then return end
          local oldest = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
          if #oldest == 0 then return end
          local oldest_ts = ts_of(oldest[1])
          if oldest_ts == nil or oldest_ts >= min_ts then return end
          local old = redis.call('XRANGE', log, '-', '+', 'COUNT', 64)
          local cut = nil
          for _, e in ipairs(old) do
            local ts = ts_of(e)
            if ts ~= nil and ts < min_ts then cut = tonumber(string.match(e[1], '^(%d+)-')) else break end
          end
          if cut ~= nil then redis.call('XTRIM', log, 'MINID', string.format('%d-0', cut + 1)) end
        end
        local function ensure_epoch(meta, log, new_epoch)
          local epoch = redis.call('HGET', meta, 'epoch')
          if not epoch then
            epoch = new_epoch
            redis.call('HSET', meta, 'epoch', epoch, 'seq', 0)
            redis.call('DEL', log)
          end
          return epoch
        end
        """;

    // KEYS: meta, log[, deduplication key]. ARGV: new epoch, type, data, now ms, maxlen, min ts ms, channel, idle
    // expiry ms, deduplication expiry ms. With a third key that holds "epoch\nseq\nts" of this epoch, nothing is
    // appended and that event's id is returned (4th element 1).
    public const string Append = TrimByAge + "\n" + """
        local meta, log = KEYS[1], KEYS[2]
        local epoch = ensure_epoch(meta, log, ARGV[1])
        if KEYS[3] then
          local prior = redis.call('GET', KEYS[3])
          if prior then
            local e1 = string.find(prior, '\n', 1, true)
            local e2 = string.find(prior, '\n', e1 + 1, true)
            if string.sub(prior, 1, e1 - 1) == epoch then
              return {epoch, tonumber(string.sub(prior, e1 + 1, e2 - 1)), tonumber(string.sub(prior, e2 + 1)), 1}
            end
          end
        end
        local seq = redis.call('HINCRBY', meta, 'seq', 1)
        redis.call('XADD', log, 'MAXLEN', '~', ARGV[5], string.format('%d-0', seq), 't', ARGV[2], 'd', ARGV[3], 'ts', ARGV[4])
        trim_by_age(log, tonumber(ARGV[6]))
        redis.call('PEXPIRE', meta, ARGV[8])
        redis.call('PEXPIRE', log, ARGV[8])
        if KEYS[3] then redis.call('SET', KEYS[3], epoch .. '\n' .. seq .. '\n' .. ARGV[4], 'PX', ARGV[9]) end
        redis.call('SPUBLISH', ARGV[7], epoch .. '\n' .. seq .. '\n' .. ARGV[4] .. '\n' .. ARGV[2] .. '\n' .. ARGV[3])
        return {epoch, seq, tonumber(ARGV[4]), 0}
        """;

    // KEYS: meta, log. ARGV: new epoch, after sequence, max count, idle expiry ms, min ts ms.
    public const string Read = TrimByAge + "\n" + """
        local meta, log = KEYS[1], KEYS[2]
        local epoch = ensure_epoch(meta, log, ARGV[1])
        redis.call('PEXPIRE', meta, ARGV[4], 'NX')
        trim_by_age(log, tonumber(ARGV[5]))
        local head = tonumber(redis.call('HGET', meta, 'seq'))
        local first = head + 1
        local oldest = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
        if #oldest > 0 then first = tonumber(string.match(oldest[1][1], '^(%d+)-')) end
        local entries = {}
        if tonumber(ARGV[3]) > 0 then
          entries = redis.call('XRANGE', log, string.format('%d-0', tonumber(ARGV[2]) + 1), '+', 'COUNT', ARGV[3])
        end
        return {epoch, head, first, entries}
        """;

    // KEYS: meta, log. ARGV: epoch, sequence. Returns {same epoch 1/0, head, ts of that entry or nil}.
    public const string Verify = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if epoch ~= ARGV[1] then return {0, 0, false} end
        local head = tonumber(redis.call('HGET', KEYS[1], 'seq'))
        local e = redis.call('XRANGE', KEYS[2], ARGV[2] .. '-0', ARGV[2] .. '-0')
        local ts = false
        if #e > 0 then
          local f = e[1][2]
          for i = 1, #f, 2 do if f[i] == 'ts' then ts = tonumber(f[i + 1]) end end
        end
        return {1, head, ts}
        """;

    // KEYS: meta, log. ARGV: the epoch that went backwards, the new epoch. Moves the stream to a new, empty epoch
    // unless another instance already did.
    public const string Rotate = """
        if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then
          redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'seq', 0)
          redis.call('DEL', KEYS[2])
        end
        return 1
        """;
}
