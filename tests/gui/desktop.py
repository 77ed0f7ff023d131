#!/usr/bin/python3
"""desktop.py RECORD: a stand-in desktop on the session bus for fzc-gui's
tests. It owns org.kde.StatusNotifierWatcher (what a tray host runs) and
org.freedesktop.Notifications (what a notification daemon runs), and writes
what it is told, one JSON object a line, to RECORD:
  {"sni": SERVICE, "sender": UNIQUE-NAME}      an item registered
  {"notify": SUMMARY, "body": BODY, "app": APP-NAME}
It prints READY once it owns both names."""
import json
import sys

from gi.repository import Gio, GLib

WATCHER_XML = """<node><interface name="org.kde.StatusNotifierWatcher">
<method name="RegisterStatusNotifierItem">
<arg type="s" direction="in"/></method>
<method name="RegisterStatusNotifierHost">
<arg type="s" direction="in"/></method>
<property name="RegisteredStatusNotifierItems" type="as" access="read"/>
<property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
<property name="ProtocolVersion" type="i" access="read"/>
<signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
</interface></node>"""

NOTIFY_XML = """<node><interface name="org.freedesktop.Notifications">
<method name="Notify">
<arg type="s" direction="in"/><arg type="u" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="s" direction="in"/><arg type="as" direction="in"/>
<arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
<arg type="u" direction="out"/></method>
<method name="CloseNotification"><arg type="u" direction="in"/></method>
<method name="GetCapabilities"><arg type="as" direction="out"/></method>
<method name="GetServerInformation">
<arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
<signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
<signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
</interface></node>"""

record = open(sys.argv[1], "a", buffering=1)
items = []
next_id = [1]


def write(obj):
    record.write(json.dumps(obj) + "\n")


def watcher_call(conn, sender, path, iface, method, params, inv):
    if method == "RegisterStatusNotifierItem":
        service = params.unpack()[0]
        items.append(service)
        write({"sni": service, "sender": sender})
        conn.emit_signal(None, path, iface, "StatusNotifierItemRegistered",
                         GLib.Variant("(s)", (service,)))
    inv.return_value(None)


def watcher_get(conn, sender, path, iface, prop):
    if prop == "RegisteredStatusNotifierItems":
        return GLib.Variant("as", items)
    if prop == "IsStatusNotifierHostRegistered":
        return GLib.Variant("b", True)
    return GLib.Variant("i", 0)


def notify_call(conn, sender, path, iface, method, params, inv):
    if method == "Notify":
        app, _, _, summary, body = params.unpack()[:5]
        write({"notify": summary, "body": body, "app": app})
        inv.return_value(GLib.Variant("(u)", (next_id[0],)))
        next_id[0] += 1
    elif method == "GetCapabilities":
        inv.return_value(GLib.Variant("(as)", (["body", "actions"],)))
    elif method == "GetServerInformation":
        inv.return_value(GLib.Variant("(ssss)", ("stand-in", "fzc", "1",
                                                 "1.2")))
    else:
        inv.return_value(None)


def main():
    bus = Gio.bus_get_sync(Gio.BusType.SESSION)
    for xml, path, call, get in (
            (WATCHER_XML, "/StatusNotifierWatcher", watcher_call,
             watcher_get),
            (NOTIFY_XML, "/org/freedesktop/Notifications", notify_call,
             None)):
        info = Gio.DBusNodeInfo.new_for_xml(xml).interfaces[0]
        bus.register_object(path, info, call, get, None)
    owned = []

    def acquired(conn, name):
        owned.append(name)
        if len(owned) == 2:
            print("READY", flush=True)

    for name in ("org.kde.StatusNotifierWatcher",
                 "org.freedesktop.Notifications"):
        Gio.bus_own_name_on_connection(bus, name, 0, acquired, None)
    GLib.MainLoop().run()


main()
