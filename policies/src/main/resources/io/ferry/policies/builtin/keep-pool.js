// Keep a pool of N timeslots alive: whenever one expires or ends, ask the batch system for as
// many new ones as are missing (pending requests count as part of the pool).
var N = 2;
var REQUEST = {cores: 2, memoryMiB: 2048, walltimeSeconds: 3600, partition: ''};
function topUp(event, view) {
  var alive = view.timeslots.filter(function (t) {
    return (t.stage === 'Active' || t.stage === 'Pending' || t.stage === 'Requested') && t.id !== event.timeslot;
  });
  for (var i = alive.length; i < N; i++) ferry.requestTimeslot(REQUEST);
  ferry.log('pool has', alive.length, 'of', N);
}
on('timeslot.expiring', topUp);
on('timeslot.ended', topUp);
