// Ferry's policy prelude: what a script sees besides plain JavaScript. No host objects exist;
// events and the view arrive as JSON text and actions leave as JSON text.
//
// It runs before the user's script and is sealed against it: its state lives in this closure (no
// global the script could replace or write to), the globals it gives ('on', 'ferry') cannot be
// redefined, and every built-in object reachable from the global object (Object, Array, JSON,
// Error, their prototypes, ...) is frozen, so a script cannot poison what the dispatcher uses
// (Array.prototype.push, Object.prototype.toJSON, Error.prepareStackTrace). The line recorded with
// each action is taken from the call's own stack, in the script's own source: a line in code the
// script builds at run time (eval, new Function) is attributed to the line that ran that code.
// The completion value is a setup function the host calls with the script's source name; it
// returns the dispatcher the host keeps (never a global).
(function (global) {
  'use strict';
  // the host-interop globals are inert here (no host access at all), and removed so scripts do not
  // even see them
  ['Java', 'java', 'javax', 'Packages', 'com', 'org', 'edu', 'net', 'Graal', 'Polyglot'].forEach(function (n) {
    try { delete global[n]; } catch (e) { /* not configurable: inert anyway */ }
  });

  var stringify = JSON.stringify, parse = JSON.parse, freeze = Object.freeze, isArray = Array.isArray;
  var defineProperty = Object.defineProperty, ownKeys = Reflect.ownKeys, getDescriptor = Object.getOwnPropertyDescriptor;
  var getPrototype = Object.getPrototypeOf, ErrorType = Error, Str = String, Num = Number;

  var scriptName = null;
  var handlers = {};
  var actions = [];
  var logs = [];

  // The script line that made the current call: the innermost frame in the script's own source.
  function line() {
    var frames = Str(new ErrorType().stack || '').split('\n');
    for (var i = 0; i < frames.length; i++) {
      var m = /\(([^()]+):(\d+):\d+\)\s*$/.exec(frames[i]) || /at ([^() ]+):(\d+):\d+\s*$/.exec(frames[i]);
      if (m && m[1] === scriptName) return Num(m[2]);
    }
    return 0;
  }

  function record(action, at) {
    actions[actions.length] = {line: at, action: action};
  }

  function ask(action) {
    record(action, line());
  }

  function on(type, handler) {
    if (typeof type !== 'string' || typeof handler !== 'function') throw new TypeError('on(type, function(event, view) {...})');
    var list = handlers[type] || (handlers[type] = []);
    list[list.length] = {handler: handler, line: line()};
  }

  var ferry = freeze({
    migrate: function (vm, timeslot) { ask({action: 'migrate', vm: vm, timeslot: timeslot}); },
    suspend: function (vm) { ask({action: 'suspend', vm: vm}); },
    resume: function (vm, timeslot) { ask({action: 'resume', vm: vm, timeslot: timeslot}); },
    stop: function (vm) { ask({action: 'stop', vm: vm}); },
    requestTimeslot: function (r) {
      r = r || {};
      ask({action: 'requestTimeslot', cores: r.cores, memoryMiB: r.memoryMiB, walltimeSeconds: r.walltimeSeconds,
          partition: r.partition || ''});
    },
    release: function (timeslot) { ask({action: 'release', timeslot: timeslot}); },
    // site-wide policies only, on the 'limits' event: at most maxTimeslots timeslots per user
    limit: function (l) { ask({action: 'limit', maxTimeslots: (l || {}).maxTimeslots}); },
    log: function () {
      var parts = [];
      for (var i = 0; i < arguments.length; i++) parts[i] = Str(arguments[i]);
      logs[logs.length] = parts.join(' ');
    }
  });

  function dispatch(type, eventJson, viewJson) {
    var event = parse(eventJson), view = freeze(parse(viewJson));
    var called = [];
    var named = handlers[type] || [], any = handlers['*'] || [];
    for (var i = 0; i < named.length; i++) called[called.length] = named[i];
    for (var k = 0; k < any.length; k++) called[called.length] = any[k];
    for (var j = 0; j < called.length; j++) {
      var returned = called[j].handler(event, view);
      // actions a handler returns are recorded at the line where that handler was registered: a
      // 'line' in the returned data is the script's, not a place in it
      if (isArray(returned)) for (var r = 0; r < returned.length; r++) record(returned[r], called[j].line);
    }
    return stringify({handled: called.length, actions: actions, logs: logs});
  }

  // freeze every built-in reachable from the global object (not the global object itself: the
  // script declares its own globals there)
  function harden(roots) {
    var todo = roots, seen = new Set();
    while (todo.length > 0) {
      var o = todo.pop();
      if (o === null || (typeof o !== 'object' && typeof o !== 'function') || o === global || seen.has(o)) continue;
      seen.add(o);
      freeze(o);
      var keys = ownKeys(o);
      for (var i = 0; i < keys.length; i++) {
        var d = getDescriptor(o, keys[i]);
        if (d === undefined) continue;
        if ('value' in d) todo.push(d.value);
        if (d.get) todo.push(d.get);
        if (d.set) todo.push(d.set);
      }
      todo.push(getPrototype(o));
    }
  }
  var roots = [];
  var names = ownKeys(global);
  for (var i = 0; i < names.length; i++) {
    var d = getDescriptor(global, names[i]);
    if (d && 'value' in d) roots.push(d.value);
  }
  roots.push(getPrototype(function* () {}), getPrototype(async function () {}), getPrototype([][Symbol.iterator]()));
  harden(roots);

  defineProperty(global, 'on', {value: on, writable: false, configurable: false, enumerable: false});
  defineProperty(global, 'ferry', {value: ferry, writable: false, configurable: false, enumerable: false});

  return function setup(name) {
    if (scriptName !== null) throw new TypeError('the prelude is set up once');
    scriptName = Str(name);
    return dispatch;
  };
})(globalThis);
