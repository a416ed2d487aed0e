"""WhiteNoise, able to run in an async middleware chain.

Under daphne Django runs the middleware chain async; WhiteNoise's middleware is sync-only, so
Django wrapped it in a thread hop and everything after it in a hop back (a new thread pool per
request): 15-20 ms on every page and API call over loopback (bench/web.py). This subclass
answers static files itself and passes every other request straight on, keeping the chain async
end to end; in a sync chain (tests, WSGI) it is WhiteNoise as it was.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None):
        super().__init__(get_response)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        return super().__call__(request)

    def _static_file(self, request):
        return self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)

    async def __acall__(self, request):
        static_file = self._static_file(request)
        if static_file is not None:
            return await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)
        return await self.get_response(request)
