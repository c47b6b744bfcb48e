// Ferry's default evacuation, as a policy script: when a timeslot starts expiring, move each of its
// VMs live to the active timeslot with room and the most time left; suspend those no timeslot can
// take, and ask for a new timeslot like the expiring one for them. (The engine refuses a migration
// that cannot end before the deadline; the built-in fallback then suspends that VM.)
on('timeslot.expiring', function (event, view) {
  var expiring = view.timeslots.filter(function (t) { return t.id === event.timeslot; })[0];
  var targets = view.timeslots.filter(function (t) { return t.stage === 'Active' && t.id !== event.timeslot; })
      .map(function (t) { return {id: t.id, cores: t.freeCores, memory: t.freeMemoryMiB, left: t.secondsLeft}; });
  var suspended = 0;
  view.vms.filter(function (v) { return v.timeslot === event.timeslot && v.stage === 'Running'; }).forEach(function (vm) {
    if (vm.mode === 'STATIC') { ferry.stop(vm.id); return; }
    var fits = targets.filter(function (t) { return t.cores >= vm.vcpus && t.memory >= vm.memoryMiB; });
    fits.sort(function (a, b) { return b.left - a.left; });
    if (fits.length > 0) {
      ferry.migrate(vm.id, fits[0].id);
      fits[0].cores -= vm.vcpus;
      fits[0].memory -= vm.memoryMiB;
    } else {
      ferry.suspend(vm.id);
      suspended++;
    }
  });
  if (suspended > 0 && expiring) {
    ferry.requestTimeslot({cores: expiring.cores || 2, memoryMiB: expiring.memoryMiB || 2048,
        walltimeSeconds: expiring.walltimeSeconds || 3600, partition: expiring.partition || ''});
  }
});
