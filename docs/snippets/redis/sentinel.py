from flask_sessionstore import RedisStore

from redis.sentinel import Sentinel

sentinel = Sentinel(
    [("sentinel1", 26379), ("sentinel2", 26379)],
    socket_timeout=2,
    sentinel_kwargs={"password": "..."},
)
master = sentinel.master_for(
    "mymaster", socket_timeout=2, socket_connect_timeout=2
)
store = RedisStore(master)
