// On expiry, move each VM of the expiring timeslot to the active timeslot with the most time left,
// and ask for a new timeslot when fewer than two remain.
on('timeslot.expiring', function (event, view) {
  var active = view.timeslots.filter(function (t) { return t.stage === 'Active' && t.id !== event.timeslot; });
  active.sort(function (a, b) { return b.secondsLeft - a.secondsLeft; });
  view.vms.filter(function (v) { return v.timeslot === event.timeslot && v.stage === 'Running'; }).forEach(function (v) {
    if (active.length > 0) ferry.migrate(v.id, active[0].id);
    else ferry.suspend(v.id);
  });
  if (active.length < 2) ferry.requestTimeslot({cores: 2, memoryMiB: 2048, walltimeSeconds: 3600});
  ferry.log('targets by time left:', active.map(function (t) { return t.id + '=' + t.secondsLeft + 's'; }).join(' '));
});
