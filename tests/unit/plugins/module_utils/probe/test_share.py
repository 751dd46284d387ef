# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import copy
import json
import math
import pickle

from ansible_collections.port443.https.plugins.module_utils.probe import _share


def endpoint(host, latency, days=29):
    return {"host": host, "tcp": {"state": "open", "latency_ms": latency},
            "tls": {"versions": {"1.2": True, "1.3": True}},
            "certificate": {"subject": "CN=a.test", "days_left": days, "sans": ["a.test"], "chain": [{"subject": "CN=a.test"}]},
            "reasons": [{"code": "no_hsts", "severity": "warning"}]}


def test_equal_parts_become_one_object_and_the_values_do_not_change():
    eps = [endpoint("a", 0.3), endpoint("b", 0.4), endpoint("c", 0.5, days=3)]
    before = json.dumps(eps)
    shared = _share.share(eps)
    assert json.dumps(shared) == before and json.dumps(eps) == before  # the input is not changed either
    a, b, c = shared
    assert a["tls"] is b["tls"] is c["tls"] and a["reasons"] is b["reasons"]
    assert a["certificate"] is b["certificate"]
    # a part that differs is its own; its equal children are still shared
    assert c["certificate"] is not a["certificate"] and c["certificate"]["chain"] is a["certificate"]["chain"]
    assert a["tcp"] is not b["tcp"] and a is not b


def test_what_only_looks_equal_is_not_shared():
    shared = _share.share([{"v": True}, {"v": 1}, {"v": 1.0}, {"v": "1"}, {"a": 1, "b": 2}, {"b": 2, "a": 1}])
    assert len({id(x) for x in shared}) == 6
    assert shared[0]["v"] is True and shared[1]["v"] is not True and isinstance(shared[1]["v"], int)
    assert isinstance(shared[2]["v"], float) and shared[2] is not shared[1]
    # a NaN is never equal to anything, and other objects keep their identity
    nan = _share.share([{"x": float("nan")}, {"x": float("nan")}])
    assert nan[0] is not nan[1] and math.isnan(nan[1]["x"])
    t1, t2 = tuple([1, 2]), tuple([1, 2])
    kept = _share.share([{"t": t1}, {"t": t2}])
    assert kept[0]["t"] is t1 and kept[1]["t"] is t2 and kept[0] is not kept[1]


def test_shared_results_copy_and_pickle_smaller_with_the_same_content():
    eps = [endpoint(f"10.0.0.{i}", i / 7) for i in range(200)]
    shared = _share.share(copy.deepcopy(eps))
    assert pickle.loads(pickle.dumps(shared)) == eps == copy.deepcopy(shared)
    assert len(pickle.dumps(shared)) < len(pickle.dumps(eps)) / 2
