"""The load that bench_api.py puts on the API: one GET, again and again, with no pause.

Run by bench_api.py as `locust -f bench/locust_api.py --headless ...`, in a process of its
own (locust patches the standard library with gevent, which Django must not see). The
path and the key come from the environment.
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

PATH = os.environ["BENCH_API_PATH"]
HEADERS = {"Authorization": f"Api-Key {os.environ['BENCH_API_KEY']}"}


class ApiClient(FastHttpUser):
    # A closed loop: each user sends its next request when the last one is answered, as the
    # bare query's threads do.
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get(PATH, headers=HEADERS, name="api")
