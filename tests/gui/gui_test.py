#!/usr/bin/python3
"""gui_test.py: drives the real fzc-gui through AT-SPI, its tray item and
notifications over D-Bus, against the real daemons and the stub portal.
Run by tests/integration/tests_gui.sh (t_gui_*) as a user in group fzc,
inside xvfb-run and dbus-run-session, with the environment it sets:
  FZC_GUI, FZC_CLI     the programs
  FZC_SOCK             the daemons' control socket
  FZC_TLOG             tunneld's log (controld logs there too)
  PT_STUB, PT_SOCK     the stub portal and its control socket
  PT_SITE              the scenario's site id
  OUT                  where this writes records (desktop, browser, token)
  SHOTS                if set, screenshots go there
Each check prints a line; the first failure ends it with exit status 1."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

import pyatspi
from gi.repository import Gio, GLib

E = os.environ
OUT = E["OUT"]
DESKTOP_LOG = os.path.join(OUT, "desktop.log")
BROWSER_LOG = os.path.join(OUT, "browser.log")
SCHEME = "firezone-fd0020211111"
procs = []


def fail(msg):
    # What the window showed, for the diagnosis (run.sh keeps 40 lines).
    app = gui_app()
    shown = []
    for n in walk(app) if app is not None else []:
        try:
            if n.getRoleName() in ("label", "push button") and showing(n):
                shown.append(text_of(n)[:50])
        except Exception:
            continue
    print("window: " + " | ".join(shown[:25]))
    print("FAIL: " + msg, flush=True)
    for p in procs:
        p.terminate()
    sys.exit(1)


def ok(msg):
    print("ok: " + msg, flush=True)


def wait(what, fn, timeout=10):
    """Polls fn until it returns something true; fails after timeout s."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            fail("timed out waiting for " + what)
        time.sleep(0.1)


def cli(*args):
    r = subprocess.run([E["FZC_CLI"], "--control-socket", E["FZC_SOCK"],
                        "--json"] + list(args), capture_output=True,
                       text=True)
    return json.loads(r.stdout) if r.stdout else {}


def portal():
    return cli("status").get("portal", {})


def stub(cmd):
    r = subprocess.run(["/usr/bin/python3", E["PT_STUB"], "ctl",
                        E["PT_SOCK"], json.dumps(cmd)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        fail("stub %s: %s" % (cmd["cmd"], r.stderr.strip()))


def records(key):
    try:
        with open(DESKTOP_LOG) as f:
            return [json.loads(l) for l in f if key in json.loads(l)]
    except FileNotFoundError:
        return []


# --- AT-SPI ---------------------------------------------------------------

def gui_app():
    for a in pyatspi.Registry.getDesktop(0):
        if a is not None and a.name == "fzc-gui":
            return a
    return None


def walk(node):
    # A redraw may take a row away while we walk: skip what went.
    yield node
    try:
        n = node.childCount
    except GLib.GError:
        return
    for i in range(n):
        try:
            c = node.getChildAtIndex(i)
        except GLib.GError:
            continue
        if c is not None:
            yield from walk(c)


def text_of(node):
    try:
        t = node.queryText()
        return t.getText(0, t.characterCount)
    except NotImplementedError:
        return node.name or ""


def showing(node):
    # GTK 4.8 marks only the window "showing"; hidden widgets lose
    # "visible".
    return node.getState().contains(pyatspi.STATE_VISIBLE)


def find(pred):
    app = gui_app()
    if app is None:
        return None
    for n in walk(app):
        try:
            if pred(n):
                return n
        except Exception:
            continue
    return None


def find_text(pattern):
    """A showing label whose text matches the regular expression."""
    rx = re.compile(pattern)
    return find(lambda n: n.getRoleName() == "label" and showing(n) and
                rx.search(text_of(n)))


def find_named(name, role=None):
    return find(lambda n: n.name == name and showing(n) and
                (role is None or n.getRoleName() == role))


def click(node):
    a = node.queryAction()
    for i in range(a.nActions):
        if a.getName(i) in ("click", "activate", "press", "toggle"):
            a.doAction(i)
            return
    a.doAction(0)


def set_text(node, text):
    """Types into the entry, or into the text widget inside it."""
    for n in walk(node):
        try:
            n.queryEditableText().setTextContents(text)
            return
        except NotImplementedError:
            continue
    fail("no editable text in %s" % node.name)


def entry_text(node):
    """The text of an entry, or of the text widget inside it."""
    for n in walk(node):
        try:
            t = n.queryText()
            return t.getText(0, t.characterCount)
        except NotImplementedError:
            continue
    return None


def checked(node):
    return node.getState().contains(pyatspi.STATE_CHECKED)


def screenshot(name):
    if not E.get("SHOTS"):
        return
    wid = subprocess.run(["xdotool", "search", "--onlyvisible", "--name",
                          "^fzc$"], capture_output=True,
                         text=True).stdout.split()
    if not wid:
        fail("no visible window for the screenshot")
    time.sleep(0.5)     # the accessibility tree runs ahead of the drawing
    subprocess.run(["import", "-window", wid[0],
                    os.path.join(E["SHOTS"], name)], check=True)
    ok("screenshot " + name)


# --- D-Bus: the tray item -------------------------------------------------

BUS = Gio.bus_get_sync(Gio.BusType.SESSION)


def call(name, path, iface, method, args, reply):
    v = BUS.call_sync(name, path, iface, method, args,
                      GLib.VariantType(reply) if reply else None, 0, 5000,
                      None)
    return v.unpack() if v is not None else None


def item_prop(service, prop):
    return call(service, "/StatusNotifierItem",
                "org.freedesktop.DBus.Properties", "Get",
                GLib.Variant("(ss)", ("org.kde.StatusNotifierItem", prop)),
                "(v)")[0]


def menu_items(service):
    """id -> properties of every item in the tray menu (with "parent", the
    label of the submenu it is in), and the menu's object path."""
    path = item_prop(service, "Menu")
    _, layout = call(service, path, "com.canonical.dbusmenu", "GetLayout",
                     GLib.Variant("(iias)", (0, -1, [])), "(u(ia{sv}av))")
    items = {}

    def add(node, parent):
        iid, props, children = node
        items[iid] = dict(props, parent=parent)
        for c in children:
            add(c, props.get("label"))
    add(layout, None)
    return path, items


def menu_click(service, label, parent=None):
    path, items = menu_items(service)
    for iid, props in items.items():
        if props.get("label") == label and \
                (parent is None or props["parent"] == parent):
            call(service, path, "com.canonical.dbusmenu", "Event",
                 GLib.Variant("(isvu)", (iid, "clicked",
                                         GLib.Variant("i", 0), 0)), None)
            return
    fail("no menu item %r in %r" % (label, [p.get("label") for p in
                                            items.values()]))


def menu_labels(service):
    return [p.get("label") for p in menu_items(service)[1].values()]


# --- the run --------------------------------------------------------------

def start():
    d = subprocess.Popen(["/usr/bin/python3",
                          os.path.join(E["SRCDIR"], "tests/gui/desktop.py"),
                          DESKTOP_LOG], stdout=subprocess.PIPE, text=True)
    procs.append(d)
    if d.stdout.readline().strip() != "READY":
        fail("the stand-in desktop did not start")
    # The accessibility bus and registry up before the GUI looks for them.
    pyatspi.Registry.getDesktop(0).childCount
    gui = subprocess.Popen([E["FZC_GUI"], "--control-socket",
                            E["FZC_SOCK"]],
                           stderr=open(os.path.join(OUT, "gui.err"), "w"))
    procs.append(gui)
    wait("fzc-gui on the accessibility bus", gui_app, 15)
    return gui


def uid_connections():
    """How often this uid connected to the control socket so far."""
    with open(E["FZC_TLOG"]) as f:
        return sum(1 for l in f if "control: uid %d connected" % os.getuid()
                   in l)


def main_not_in_group():
    """A desktop user outside group fzc is told what to do."""
    gui = start()
    wait("the advice in the window", lambda: find_text(
        "not in group fzc.*sudo usermod -aG fzc %s" % re.escape(
            E["USER"])))
    if find_named("Sign in", "push button"):
        fail("offers to sign in without a daemon to talk to")
    ok("a user outside group fzc is told to run usermod and log in again")
    gui.terminate()
    for p in procs:
        p.terminate()
    print("ALL OK", flush=True)


def main():
    if E.get("MODE") == "not-in-group":
        main_not_in_group()
        return
    gui = start()
    ok("fzc-gui started and is on the accessibility bus")

    # The window shows the portal's resources by name, and the state.
    for name in ("HQ LAN", "GitLab"):
        wait("resource %s in the window" % name,
             lambda: find_text("^%s$" % re.escape(name)))
    wait("the connected state", lambda: find_text("^Connected$"))
    wait("the DNS pattern", lambda: find_text(r"DNS pattern \*\.git\."))
    ok("the window lists the portal's resources")

    # The Internet switch changes what the daemon reports.
    sw = wait("the Internet switch", lambda: find_named("Internet resource"))
    if checked(sw) or portal().get("internet") != "off":
        fail("the Internet resource starts on")
    click(sw)
    wait("internet on in fzc status",
         lambda: portal().get("internet") == "on")
    wait("the switch checked", lambda: checked(find_named(
        "Internet resource")))
    ok("the Internet switch turns the resource on in the daemon")

    # A resource change at the portal is pushed: the label appears with no
    # new connection from this user (a poll would need one).
    before = uid_connections()
    stub({"cmd": "create_resource", "resource": {
        "id": "2b9c4d6e-8f10-4a2b-9c3d-4e5f60718293", "type": "cidr",
        "address": "10.30.0.0/24", "name": "Lab",
        "address_description": None, "filters": [],
        "sites": [{"id": E["PT_SITE"], "name": "HQ"}]}})
    t0 = time.monotonic()
    wait("the new resource in the window", lambda: find_text("^Lab$"))
    took = time.monotonic() - t0
    if uid_connections() != before:
        fail("the window connected again to learn of the change: polled")
    ok("a resource created at the portal appears, pushed (%.2f s)" % took)

    # The tray item: registered with the watcher, properties, menu.
    reg = wait("the tray item registered", lambda: records("sni"))
    service = reg[0]["sni"]
    if item_prop(service, "IconName") != "fzc-connected":
        fail("tray icon %r" % item_prop(service, "IconName"))
    wait("Lab in the tray menu", lambda: "Lab" in menu_labels(service))
    labels = menu_labels(service)
    for want in ("Connected", "Copy 10.30.0.0/24", "Internet resource",
                 "Sign out", "Open window", "Quit"):
        if want not in labels:
            fail("tray menu has no %r: %r" % (want, labels))
    menu_click(service, "Internet resource")
    wait("internet off after the tray click",
         lambda: portal().get("internet") == "off")
    wait("the window's switch follows the tray",
         lambda: not checked(find_named("Internet resource")))
    ok("tray item registered; its menu turns the Internet resource off")

    # Favourites come first, in the menu and in the window.
    menu_click(service, "Add to favourites", "Lab")
    wait("Lab first in the tray menu, starred", lambda: [
        p.get("label") for iid, p in menu_items(service)[1].items()
        if iid != 0 and p["parent"] is None and
        p.get("children-display")][:1] == ["★ Lab"])
    first = wait("the resource rows", lambda: [
        text_of(n) for n in walk(gui_app()) if n.getRoleName() == "label"
        and text_of(n) in ("Lab", "GitLab", "HQ LAN")])
    if first[0] != "Lab":
        fail("the window's first resource is %s, not the favourite" %
             first[0])
    ok("a favourite chosen in the tray comes first in menu and window")

    # Notifications: connected was announced; a gateway offline and a
    # version mismatch (as the portal refuses an authorization) too.
    wait("a 'connected' notification",
         lambda: any(n["notify"] == "fzc connected"
                     for n in records("notify")))
    for rid, reason in ((E["PT_CIDR"], "offline"),
                        (E["PT_DNS"], "version_mismatch")):
        stub({"cmd": "push", "event": "authorization_creation_failed",
              "payload": {"resource_id": rid, "reason": reason}})
    wait("the offline notification", lambda: any(
        n["notify"] == "fzc: gateway offline" and "HQ LAN" in n["body"]
        for n in records("notify")))
    wait("the version mismatch notification", lambda: any(
        n["notify"] == "fzc: version mismatch" and "GitLab" in n["body"]
        for n in records("notify")))
    wait("the offline status in the window",
         lambda: find_text("offline: no gateway online"))
    ok("notifications: connected, gateway offline, version mismatch")

    # The daemon's settings (Firezone's advanced settings) in the window:
    # as the daemon keeps them, ws:// refused, a new API URL saved by the
    # daemon, which moves the session to it, then the daemon's defaults.
    url = cli("settings")["settings"]["api_url"]["default"]
    # The Settings tab first: GTK acts on no button of a hidden page.
    tabs = wait("the window's tabs",
                lambda: find(lambda n: n.getRoleName() == "page tab list"))
    tabs.querySelection().selectChild(2)
    entry = wait("the API URL entry", lambda: find(
        lambda n: n.name == "Portal API URL" and
        n.getRoleName() != "label"))
    wait("the daemon's API URL in the window",
         lambda: entry_text(entry) == url)
    save = find_named("Save daemon settings", "push button")
    set_text(entry, "ws://127.0.0.1:1")
    click(save)
    wait("the ws:// refusal", lambda: find_text("must start with wss://"))
    set_text(entry, "wss://127.0.0.1:1")
    click(save)
    wait("the new API URL in the daemon", lambda: cli("settings").get(
        "settings", {}).get("api_url", {}).get("custom"))
    wait("the session moved to it",
         lambda: portal().get("state") == "waiting")
    click(find_named("Daemon defaults", "push button"))
    wait("the daemon's default API URL again",
         lambda: entry_text(entry) == url and not cli("settings")[
             "settings"]["api_url"]["custom"])
    wait("connected again", lambda: portal().get("state") == "connected",
         timeout=20)
    tabs.querySelection().selectChild(0)
    ok("the daemon's settings: shown, checked, saved, back to defaults")

    # Sign out through the window.
    click(wait("the Sign out button", lambda: find_named("Sign out",
                                                         "push button")))
    wait("signed out in the daemon",
         lambda: portal().get("state") == "signed_out")
    wait("the window says signed out", lambda: find_text("^Signed out$"))
    if find_text("^Lab$"):
        fail("the window still lists resources after the sign-out")
    wait("a 'signed out' notification",
         lambda: any(n["notify"] == "fzc signed out"
                     for n in records("notify")))
    wait("the tray icon signed out",
         lambda: item_prop(service, "IconName") == "fzc-signed-out")
    ok("sign-out from the window; notified; tray icon follows")
    screenshot("gui-signed-out.png")

    # A pasted token signs in too.
    pasted = "pasted-" + os.urandom(8).hex()
    with open(os.path.join(OUT, "pasted-token"), "w") as f:
        f.write(pasted)
    set_text(wait("the token entry", lambda: find_named("Token")), pasted)
    click(wait("the Use token button", lambda: find_named("Use token",
                                                          "push button")))
    wait("connected with the pasted token",
         lambda: portal().get("state") == "connected", 20)
    click(wait("the Sign out button", lambda: find_named("Sign out",
                                                         "push button")))
    wait("signed out again", lambda: portal().get("state") == "signed_out")
    wait("the window signed out again", lambda: find_text("^Signed out$"))
    ok("a pasted token signs in")

    # Sign in through the browser: the URL the GUI opened.
    click(wait("the Sign in button", lambda: find_named("Sign in",
                                                        "push button")))
    url = wait("the browser opened", lambda: os.path.exists(BROWSER_LOG)
               and open(BROWSER_LOG).read().strip())
    u = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qs(u.query)
    if (u.scheme, u.netloc, u.path) != ("https", "portal.test",
                                        "/auth/acme") or \
            q.get("as") != ["gui-client"] or \
            not re.fullmatch("[0-9a-f]{64}", q["nonce"][0]) or \
            not re.fullmatch("[0-9a-f]{64}", q["state"][0]):
        fail("sign-in URL %s" % url)
    nonce, state = q["nonce"][0], q["state"][0]
    ok("the browser was sent to the sign-in page")

    def deep_link(st, fragment):
        link = "%s://handle_client_sign_in_callback/?%s" % (
            SCHEME, urllib.parse.urlencode({
                "state": st, "fragment": fragment,
                "account_slug": "acme", "actor_name": "Alice Example"}))
        # As a browser does: the link's handler, a second fzc-gui that
        # hands it to the first and exits.
        r = subprocess.run(["gio", "open", link], capture_output=True,
                           text=True, timeout=20)
        if r.returncode != 0:
            fail("gio open: %s" % r.stderr)

    # A wrong state is refused.
    wrong = ("0" if state[0] != "0" else "1") + state[1:]
    deep_link(wrong, "frag-wrong")
    wait("the refusal in the window",
         lambda: find_text("state does not match"))
    if portal().get("state") != "signed_out":
        fail("signed in with a wrong state")
    ok("a callback with a wrong state is refused")

    # The right one signs in with nonce followed by fragment.
    fragment = "frag-" + os.urandom(8).hex()
    with open(os.path.join(OUT, "expected-token"), "w") as f:
        f.write(nonce + fragment)
    deep_link(state, fragment)
    wait("connected after the browser sign-in",
         lambda: portal().get("state") == "connected", 20)
    wait("the window says connected", lambda: find_text("^Connected$"))
    wait("the account in the window",
         lambda: find_text(r"^Signed in as Alice Example \(account acme\)"))
    wait("the resources back in the window", lambda: find_text("^Lab$"))
    ok("the browser callback signs in")
    screenshot("gui-connected.png")

    # One instance only: the deep links went to the first.
    apps = [a for a in pyatspi.Registry.getDesktop(0)
            if a is not None and a.name == "fzc-gui"]
    if len(apps) != 1 or gui.poll() is not None:
        fail("%d fzc-gui instances, first alive: %s" % (
            len(apps), gui.poll() is None))
    ok("the second instances forwarded the links to the first")

    # fzc-controld dies (the test kills it; fzc-tunneld starts another):
    # the GUI notices, connects again by itself and shows the state.
    marker = os.path.join(OUT, "kill-controld")
    open(marker, "w").close()
    wait("controld killed", lambda: not os.path.exists(marker))
    wait("the GUI noticed", lambda: "fzc daemon: fzc-controld closed the "
         "connection" in open(os.path.join(OUT, "gui.err")).read())
    wait("connected again", lambda: portal().get("state") == "connected",
         30)
    wait("the window connected again", lambda: find_text("^Connected$") and
         find_text("^Lab$"), 15)
    ok("the GUI reconnects after fzc-controld restarts")

    # Export logs (the window's button ends in this action): one zip with
    # the daemons' journal and the GUI's log, without the token.
    zpath = os.path.join(OUT, "logs.zip")
    call("dev.fzc.Gui", "/dev/fzc/Gui", "org.gtk.Actions", "Activate",
         GLib.Variant("(sava{sv})", ("export-logs",
                                     [GLib.Variant("s", zpath)], {})), None)
    wait("the zip of the logs", lambda: os.path.exists(zpath))
    import zipfile
    with zipfile.ZipFile(zpath) as z:
        names = sorted(z.namelist())
        guilog = z.read("fzc-logs/fzc-gui.log").decode()
        data = b"".join(z.read(n) for n in names)
    if names != ["fzc-logs/daemons.log", "fzc-logs/fzc-gui.log"] or \
            "callback accepted for account acme" not in guilog:
        fail("logs zip: %r, GUI log %r" % (names, guilog[-300:]))
    if (nonce + fragment).encode() in data or fragment.encode() in data:
        fail("the token is in the exported logs")
    ok("logs exported as a zip of the daemons' journal and the GUI's log")

    # Quit from the tray menu.
    menu_click(service, "Quit")
    try:
        gui.wait(10)
    except subprocess.TimeoutExpired:
        fail("Quit in the tray menu did not end fzc-gui")
    ok("Quit in the tray menu ends fzc-gui")
    for p in procs:
        p.terminate()
    print("ALL OK", flush=True)


main()
