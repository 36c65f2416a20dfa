"""Tests of the JQL additions the Jira collector needs (simjira.py).

Run: python3 tests/apisim/test_simjira_jql.py  (stdlib unittest, seconds).

The collector backfills with two AND-only queries instead of one with OR
(OR stays outside the simulator's subset): `updated >= "since"` and
`updated < "since" AND statusCategory != Done`, and wraps a configured
`jql` in parentheses before adding its own clauses. So the subset gained
statusCategory comparisons (=, !=, in, not in; by name, key or id, any
case, against the current status) and parenthesised groups of AND-ed
clauses. Kept in a file of its own so test_simjira.py stays its author's.
"""

import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import simjira  # noqa: E402
from simjira import JiraApi, JiraError, parse_jql  # noqa: E402

NOW = 1794787200


def lookup(v):
    return {"OPS": "OPS", "API": "API"}.get(str(v).upper())


def p(text, cloud=True):
    return parse_jql(text, lookup, cloud)


class Parse(unittest.TestCase):
    def bad(self, text, frag=""):
        with self.assertRaises(JiraError) as cm:
            p(text)
        self.assertEqual(cm.exception.status, 400)
        self.assertIn(frag, cm.exception.messages[0])

    def test_status_category(self):
        q = p("project = OPS AND statusCategory != Done")
        self.assertEqual(q.conds, [("statuscategory", "!=", ("done",))])
        q = p('statusCategory = "In Progress"')
        self.assertEqual(q.conds, [("statuscategory", "=",
                                    ("indeterminate",))])
        self.assertTrue(q.bounded)
        q = p("statuscategory in (new, 4, 'No Category')")
        self.assertEqual(q.conds, [("statuscategory", "=",
                                    ("indeterminate", "new", "undefined"))])
        q = p("statusCategory NOT IN (done)")
        self.assertEqual(q.conds, [("statuscategory", "!=", ("done",))])

    def test_status_category_errors(self):
        self.bad("statusCategory != Finished", frag="'Finished'")
        self.bad("statusCategory > Done", frag="operator")
        self.bad("statusCategory not (done)", frag="'IN'")

    def test_groups(self):
        q = p('(project in (OPS, API) AND created >= "2026-01-01") AND '
              'updated >= "2026-11-01 10:00" ORDER BY updated ASC, key ASC')
        self.assertEqual(q.projects, {"OPS", "API"})
        self.assertEqual(len(q.conds), 2)
        q = p("((project = OPS)) AND statusCategory != done")
        self.assertEqual(q.projects, {"OPS"})
        self.bad("(project = OPS", frag="')'")
        self.bad("(project = OPS OR project = API)", frag="OR")
        self.bad("(project = OPS) project = API", frag="'OR' or 'AND'")
        self.bad("()", frag="Unbounded")

    def test_subset_still_refuses_or(self):
        self.bad("project = OPS OR statusCategory != Done", frag="OR")


class Select(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        opts = argparse.Namespace(
            seed=1, scale=(1, 20), scale_name="small", now=NOW,
            jira_flavor="cloud", jira_auth=None, changelog_inline=None,
            jira_page_cap=None, retry_after=1)
        cls.api = JiraApi(opts)
        cls.truth = cls.api.truth({})["tickets"]

    def keys(self, jql):
        return {t.key for t in self.api.select(self.api.parsed(jql), NOW)}

    def test_not_done_split(self):
        since = "2026-06-01"
        a = self.keys('project = OPS AND updated >= "%s"' % since)
        b = self.keys('project = OPS AND updated < "%s" AND '
                      'statusCategory != Done' % since)
        self.assertFalse(a & b)
        cut = simjira.jql_date_ms(since, "updated") // 1000
        want = {k for k, t in self.truth.items() if t["project"] == "OPS"
                and (t["updated_at"] >= cut or
                     t["status_category"] != "done")}
        self.assertEqual(a | b, want)
        self.assertTrue(b, "old tickets that are not done exist")

    def test_category_matches_truth(self):
        got = self.keys('project = API AND statusCategory in ("To Do", '
                        'undefined)')
        want = {k for k, t in self.truth.items() if t["project"] == "API"
                and t["status_category"] in ("new", "undefined")}
        self.assertEqual(got, want)


if __name__ == "__main__":
    unittest.main()
