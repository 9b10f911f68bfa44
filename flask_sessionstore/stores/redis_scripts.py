"""The Lua scripts of :class:`~flask_sessionstore.RedisStore`, one atomic command each.

Every request-path operation is one ``EVALSHA`` of one of these scripts, so a
reader costs one command and a writer two (its load and its write), and each
is atomic on the server: no ``WATCH`` retry loop, no lock.  The scripts touch
only the keys they are given (``KEYS``), so they also run on Redis Cluster,
where a session's key and its record key share a hash slot (see
:mod:`flask_sessionstore.stores.redis_format`).

Conventions shared by the scripts:

* ``KEYS[1]`` is the session key (``prefix + sid``, connect-redis's),
  ``KEYS[2]`` its record hash; a write or refresh may add the owner's sorted
  set (``KEYS[3]``) and the previous owner's (``KEYS[4]``).
* Times are absolute milliseconds of the *application's* clock (``now``,
  ``at``), so a session is live exactly when the store says it is, whichever
  of the app or Redis reads the clock (the same rule MongoStore applies to
  its ``expires`` field).  ``at = 0`` means no expiry (``disable_ttl``).
* The version is the SHA-1 of the raw stored value: computed by the client
  from what its load read, compared here with ``redis.sha1hex(GET key)``.
  It is content-based, so a write by connect-redis (which knows nothing of
  versions) is detected as well, and an A-B-A change is harmless.
"""

from __future__ import annotations

# Absolute expiry in ms of KEYS[i]: PEXPIRETIME (Redis 7), else TIME + PTTL
# (Redis 6.2).  -1: no expiry, -2: no key.
_EXPIRETIME = """
local function expiretime(key)
  local t = redis.pcall('PEXPIRETIME', key)
  if type(t) == 'number' then return t end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then return ttl end
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + ttl
end
"""

# The record hash: ARGV[first..] are field/value pairs; createdAt is kept from
# the stored record when keep_created, fields not given are removed.
_RECORD = """
local function put_record(first, keep_created, at)
  local created = keep_created and redis.call('HGET', KEYS[2], 'createdAt')
  redis.call('DEL', KEYS[2])
  local fields = {}
  for i = first, #ARGV, 2 do
    local value = ARGV[i + 1]
    if ARGV[i] == 'createdAt' and created then value = created end
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = value
  end
  if #fields > 0 then
    redis.call('HSET', KEYS[2], unpack(fields))
    if at > 0 then redis.call('PEXPIREAT', KEYS[2], at) end
  end
end

-- The owner's sorted set (member: sid, score: last seen in ms) lives as long
-- as its longest-lived member; a previous owner's set loses the member.
local function put_owner(mode, sid, score, at)
  if mode == 1 or mode == 3 then
    redis.call('ZADD', KEYS[3], score, sid)
    if at == 0 then
      redis.call('PERSIST', KEYS[3])
    else
      local t = expiretime(KEYS[3])
      if t < at then redis.call('PEXPIREAT', KEYS[3], at) end
    end
  end
  if mode == 2 then redis.call('ZREM', KEYS[3], sid) end
  if mode == 3 then redis.call('ZREM', KEYS[4], sid) end
end
"""

#: ``LOAD(sess, rec)`` -> ``false`` or ``{value, expiretime, {record pairs}, record expiretime}``.
LOAD = (
    _EXPIRETIME
    + """
local value = redis.call('GET', KEYS[1])
if not value then return false end
return {value, expiretime(KEYS[1]), redis.call('HGETALL', KEYS[2]), expiretime(KEYS[2])}
"""
)

#: ``RECORD(sess, rec)`` -> ``false`` or ``{expiretime, {record pairs}}``: a listing, no value.
RECORD = (
    _EXPIRETIME
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return {expiretime(KEYS[1]), redis.call('HGETALL', KEYS[2])}
"""
)

#: ``WRITE(sess, rec[, owner[, old owner]])`` with ARGV ``expected, value, now,
#: at, sid, owner mode, score, record pairs...``.  ``expected`` empty: write
#: whole (a new session).  Returns ``1`` (written), ``0`` (gone: a logout
#: wins) or ``{current value}`` (rewritten since the load: merge and retry).
WRITE = (
    _EXPIRETIME
    + _RECORD
    + """
local expected, now, at = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])
if expected ~= '' then
  local current = redis.call('GET', KEYS[1])
  if not current then return 0 end
  local t = expiretime(KEYS[1])
  if t >= 0 and t <= now then return 0 end
  if redis.sha1hex(current) ~= expected then return {current} end
end
if at > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', at)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
put_record(8, expected ~= '', at)
put_owner(tonumber(ARGV[6]), ARGV[5], ARGV[7], at)
return 1
"""
)

#: ``REFRESH(sess, rec[, owner[, old owner]])`` with ARGV ``expected, now, at,
#: sid, owner mode, score, record pairs...``: the expiry and record of a live
#: session still at version ``expected`` (the value is not rewritten).
#: Returns 1 (refreshed), 0 (gone) or -1 (rewritten since: that write
#: refreshed it).
REFRESH = (
    _EXPIRETIME
    + _RECORD
    + """
local now, at = tonumber(ARGV[2]), tonumber(ARGV[3])
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local t = expiretime(KEYS[1])
if t >= 0 and t <= now then return 0 end
if redis.sha1hex(current) ~= ARGV[1] then return -1 end
redis.call('PEXPIREAT', KEYS[1], at)
put_record(7, true, at)
put_owner(tonumber(ARGV[5]), ARGV[4], ARGV[6], at)
return 1
"""
)

#: ``TOUCH(sess, rec)`` with ARGV ``now, at``: connect-redis's ``touch`` (the
#: expiry only, the value untouched) on a live session, its record alongside.
TOUCH = (
    _EXPIRETIME
    + """
local now, at = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = expiretime(KEYS[1])
if t == -2 or (t >= 0 and t <= now) then return 0 end
redis.call('PEXPIREAT', KEYS[1], at)
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIREAT', KEYS[2], at) end
return 1
"""
)

#: ``REVOKE(sess, rec)`` with ARGV ``now[, owner]``: delete the session and its
#: record; with ``owner``, only if the record still names that owner (-1
#: otherwise).  Returns 1 if the session was live, else 0.
REVOKE = (
    _EXPIRETIME
    + """
if ARGV[2] and redis.call('HGET', KEYS[2], 'user') ~= ARGV[2] then return -1 end
local t = expiretime(KEYS[1])
local live = 0
if t == -1 or t > tonumber(ARGV[1]) then live = 1 end
redis.call('DEL', KEYS[1], KEYS[2])
return live
"""
)

#: ``OWNER(owner set)`` with ARGV ``sid, score, at``: on Redis Cluster, where the
#: owner set lives in another hash slot than the session, what ``put_owner``
#: does in the write script (the set lives as long as its longest session).
OWNER = (
    _EXPIRETIME
    + """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local at = tonumber(ARGV[3])
if at == 0 then
  redis.call('PERSIST', KEYS[1])
elseif expiretime(KEYS[1]) < at then
  redis.call('PEXPIREAT', KEYS[1], at)
end
return 1
"""
)
