#!/usr/bin/env python3
"""A QuickFIX initiator that trades with Keel, for the FIX interoperability test.

Usage: quickfix_client.py SETTINGS_FILE USER PASSWORD

QuickFIX (the quickfix-py engine) logs on to Keel's FIX acceptor with its FIX 4.4 data
dictionary validating every message Keel sends (UseDataDictionary=Y in the settings).
It places, amends and cancels an order, takes liquidity, mass-cancels, sends two orders
Keel refuses (unknown symbol; a message type the order entry does not take), then logs
out and waits for Keel's Logout answer.

It fails (exit code 1, the reasons on stderr) when an expected answer does not come in
time or is wrong, when QuickFIX rejects anything Keel sent (it would answer with a
session-level Reject), or when Keel rejects anything QuickFIX sent.
"""

import queue
import os
import sys
from decimal import Decimal
import threading
import time

import quickfix as fix
import quickfix44 as fix44

SOH = "\x01"
WAIT_S = 20.0


def fields_of(msg):
    """Tag -> value (first occurrence) of a message, from its wire form."""
    out = {}
    for part in msg.toString().split(SOH):
        if "=" in part:
            tag, value = part.split("=", 1)
            out.setdefault(int(tag), value)
    return out


def wire(msg):
    return msg.toString().replace(SOH, "|")


class App(fix.Application):
    def __init__(self, user, password):
        super().__init__()
        self.user = user
        self.password = password
        self.session_id = None
        self.logged_on = threading.Event()
        self.logged_out = threading.Event()
        self.inbox = queue.Queue()
        self.problems = []

    def onCreate(self, session_id):
        self.session_id = session_id

    def onLogon(self, session_id):
        self.logged_on.set()

    def onLogout(self, session_id):
        self.logged_out.set()

    def toAdmin(self, msg, session_id):
        msg_type = msg.getHeader().getField(35)
        if msg_type == fix.MsgType_Logon:
            msg.setField(fix.Username(self.user))
            msg.setField(fix.Password(self.password))
        elif msg_type == fix.MsgType_Reject:
            self.problems.append("QuickFIX rejected a message from Keel: " + wire(msg))

    def fromAdmin(self, msg, session_id):
        if msg.getHeader().getField(35) == fix.MsgType_Reject:
            self.problems.append("Keel rejected a message from QuickFIX: " + wire(msg))

    def toApp(self, msg, session_id):
        pass

    def fromApp(self, msg, session_id):
        # Only messages that passed QuickFIX's data-dictionary validation get here.
        self.inbox.put(fields_of(msg))


class Trader:
    def __init__(self, app):
        self.app = app
        self.kept = []

    def send(self, msg):
        if not fix.Session.sendToTarget(msg, self.app.session_id):
            raise AssertionError("QuickFIX could not send " + wire(msg))

    def wait(self, what, predicate):
        """The first received message (kept ones first) that satisfies `predicate`."""
        for i, m in enumerate(self.kept):
            if predicate(m):
                return self.kept.pop(i)
        deadline = time.time() + WAIT_S
        while time.time() < deadline:
            try:
                m = self.app.inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if predicate(m):
                return m
            self.kept.append(m)
        raise AssertionError("timed out waiting for " + what + "; received " + repr(self.kept))

    def report(self, cl_ord_id, exec_type):
        return self.wait(
            "ExecutionReport %s 150=%s" % (cl_ord_id, exec_type),
            lambda m: m.get(35) == "8" and m.get(11) == cl_ord_id and m.get(150) == exec_type,
        )

    def new_order(self, cl_ord_id, symbol, side, qty, price, tif="0"):
        m = fix44.NewOrderSingle()
        m.setField(11, cl_ord_id)
        m.setField(21, "1")
        m.setField(55, symbol)
        m.setField(54, side)
        m.setField(fix.TransactTime())
        m.setField(38, qty)
        m.setField(40, "2")
        m.setField(44, price)
        m.setField(59, tif)
        self.send(m)

    def replace(self, cl_ord_id, orig, qty, price):
        m = fix44.OrderCancelReplaceRequest()
        m.setField(41, orig)
        m.setField(11, cl_ord_id)
        m.setField(55, "BTC-USD")
        m.setField(54, "1")
        m.setField(fix.TransactTime())
        m.setField(38, qty)
        m.setField(40, "2")
        m.setField(44, price)
        self.send(m)

    def cancel(self, cl_ord_id, orig):
        m = fix44.OrderCancelRequest()
        m.setField(41, orig)
        m.setField(11, cl_ord_id)
        m.setField(55, "BTC-USD")
        m.setField(54, "1")
        m.setField(fix.TransactTime())
        self.send(m)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def trade(t):
    # A resting buy: pending new, then new.
    t.new_order("Q1", "BTC-USD", "1", "0.002", "45000.00")
    r = t.report("Q1", "A")
    expect(r.get(39) == "A" and r.get(151) == "0.002" and r.get(14) == "0.000", "Q1 pending new: %r" % r)
    r = t.report("Q1", "0")
    expect(r.get(39) == "0", "Q1 new: %r" % r)

    # Amend price and quantity.
    t.replace("Q2", "Q1", "0.004", "45100.50")
    r = t.report("Q2", "5")
    expect((r.get(41), r.get(38), r.get(44), r.get(39)) == ("Q1", "0.004", "45100.50", "0"), "Q2 replaced: %r" % r)

    # Cancel.
    t.cancel("Q3", "Q2")
    r = t.report("Q3", "4")
    expect((r.get(41), r.get(39), r.get(151)) == ("Q2", "4", "0.000"), "Q3 canceled: %r" % r)

    # Take liquidity: an IOC buy through the offer.
    t.new_order("Q4", "BTC-USD", "1", "0.003", "55000.00", tif="3")
    fills = 0
    while True:
        r = t.wait("a fill or the end of Q4", lambda m: m.get(11) == "Q4" and m.get(150) in ("F", "4", "8"))
        expect(r.get(150) != "8", "Q4 rejected: %r" % r)
        if r.get(150) == "F":
            fills += 1
            expect(Decimal(r[14]) + Decimal(r[151]) == Decimal("0.003"), "Q4 quantities: %r" % r)
            expect(Decimal(r[6]) > 0, "Q4 AvgPx: %r" % r)
            if r.get(39) == "2":
                break
        else:
            break
    expect(fills > 0, "Q4 was not filled")

    # Mass cancel of a resting order.
    t.new_order("Q5", "BTC-USD", "1", "0.001", "44000.00")
    t.report("Q5", "0")
    m = fix44.OrderMassCancelRequest()
    m.setField(11, "Q6")
    m.setField(530, "7")
    m.setField(fix.TransactTime())
    t.send(m)
    r = t.wait("the OrderMassCancelReport", lambda m: m.get(35) == "r")
    expect((r.get(11), r.get(531), r.get(533)) == ("Q6", "7", "1"), "mass cancel report: %r" % r)

    # Refusals, each in its own message type.
    t.new_order("Q7", "NOPE-USD", "1", "1", "1")
    r = t.report("Q7", "8")
    expect((r.get(39), r.get(103)) == ("8", "1"), "Q7 unknown symbol: %r" % r)
    md = fix44.MarketDataRequest()
    md.setField(262, "MD1")
    md.setField(263, "0")
    md.setField(264, "1")
    group = fix44.MarketDataRequest.NoMDEntryTypes()
    group.setField(269, "0")
    md.addGroup(group)
    symbols = fix44.MarketDataRequest.NoRelatedSym()
    symbols.setField(55, "BTC-USD")
    md.addGroup(symbols)
    t.send(md)
    r = t.wait("a BusinessMessageReject", lambda m: m.get(35) == "j")
    expect((r.get(372), r.get(380)) == ("V", "3"), "business reject: %r" % r)


def main():
    settings_path, user, password = sys.argv[1:4]
    settings = fix.SessionSettings(settings_path)
    app = App(user, password)
    initiator = fix.SocketInitiator(app, fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings))
    initiator.start()
    failure = None
    try:
        if not app.logged_on.wait(WAIT_S):
            raise AssertionError("QuickFIX did not log on to Keel")
        trade(Trader(app))
    except AssertionError as e:
        failure = str(e)
    finally:
        # stop() sends Logout and waits for Keel's answer.
        initiator.stop()
    if not app.logged_out.is_set():
        failure = failure or "QuickFIX did not log out"
    problems = list(app.problems)
    if failure:
        problems.insert(0, failure)
    if problems:
        for p in problems:
            print("FAIL: " + p, file=sys.stderr)
        return 1
    print("quickfix: logged on, traded, logged out; no rejects either way")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without the interpreter's teardown: quickfix-py's wrapped engine objects can
    # be destroyed in an order that crashes (SIGSEGV) after a clean stop.
    os._exit(code)
