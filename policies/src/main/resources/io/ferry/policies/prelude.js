// Ferry's policy prelude: what a script sees besides plain JavaScript. No host objects exist;
// events and the view arrive as JSON text and actions leave as JSON text.
// The host-interop globals are inert here (no host access at all), and removed so scripts do not
// even see them.
['Java', 'java', 'javax', 'Packages', 'com', 'org', 'edu', 'net', 'Graal', 'Polyglot'].forEach(function (n) {
  try { delete globalThis[n]; } catch (e) { /* not configurable: inert anyway */ }
});
var __handlers = {};
var __actions = [];
var __logs = [];
function on(type, handler) {
  if (typeof type !== 'string' || typeof handler !== 'function') throw new TypeError('on(type, function(event, view) {...})');
  (__handlers[type] = __handlers[type] || []).push(handler);
}
// The script line that asked for an action, for the audit trail ("policy v3, line 12").
function __line() {
  var frames = String(new Error().stack || '').split('\n');
  for (var i = 0; i < frames.length; i++) {
    var m = /\(([^()]+):(\d+):\d+\)\s*$/.exec(frames[i]) || /at ([^() ]+):(\d+):\d+\s*$/.exec(frames[i]);
    if (m && m[1].indexOf('ferry-prelude.js') < 0) return Number(m[2]);
  }
  return 0;
}
function __push(action) {
  action.line = __line();
  __actions.push(action);
}
var ferry = Object.freeze({
  migrate: function (vm, timeslot) { __push({action: 'migrate', vm: vm, timeslot: timeslot}); },
  suspend: function (vm) { __push({action: 'suspend', vm: vm}); },
  resume: function (vm, timeslot) { __push({action: 'resume', vm: vm, timeslot: timeslot}); },
  stop: function (vm) { __push({action: 'stop', vm: vm}); },
  requestTimeslot: function (r) {
    r = r || {};
    __push({action: 'requestTimeslot', cores: r.cores, memoryMiB: r.memoryMiB, walltimeSeconds: r.walltimeSeconds,
        partition: r.partition || ''});
  },
  release: function (timeslot) { __push({action: 'release', timeslot: timeslot}); },
  // site-wide policies only, on the 'limits' event: at most maxTimeslots timeslots per user
  limit: function (l) { __push({action: 'limit', maxTimeslots: (l || {}).maxTimeslots}); },
  log: function () { __logs.push(Array.prototype.join.call(arguments, ' ')); }
});
function __dispatch(type, eventJson, viewJson) {
  var event = JSON.parse(eventJson), view = Object.freeze(JSON.parse(viewJson));
  var handlers = (__handlers[type] || []).concat(__handlers['*'] || []);
  for (var i = 0; i < handlers.length; i++) {
    var returned = handlers[i](event, view);
    if (Array.isArray(returned)) for (var j = 0; j < returned.length; j++) __actions.push(returned[j]);
  }
  return JSON.stringify({handled: handlers.length, actions: __actions, logs: __logs});
}
