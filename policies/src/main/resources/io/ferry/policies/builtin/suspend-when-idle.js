// Suspend a VM its owner marked idle (event "vm.idle"), and resume suspended VMs on the active
// timeslot with the most time left when one becomes active.
on('vm.idle', function (event, view) {
  var vm = view.vms.filter(function (v) { return v.id === event.vm; })[0];
  if (vm && vm.stage === 'Running') ferry.suspend(vm.id);
});
on('timeslot.active', function (event, view) {
  var slot = view.timeslots.filter(function (t) { return t.id === event.timeslot; })[0];
  if (!slot) return;
  var cores = slot.freeCores, memory = slot.freeMemoryMiB;
  view.vms.filter(function (v) { return v.stage === 'Suspended'; }).forEach(function (vm) {
    if (vm.vcpus <= cores && vm.memoryMiB <= memory) {
      ferry.resume(vm.id, slot.id);
      cores -= vm.vcpus;
      memory -= vm.memoryMiB;
    }
  });
});
