package io.ferry.nodeagent.membership;

import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.Reachability;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.sbr.DowningStrategy;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Keep-majority over the control members, in which <b>only control members' observations
 * count</b>: the strategy Ferry gives Pekko's Split Brain Resolver ({@link FerryDowningProvider}).
 *
 * <p>Why not Pekko's keep-majority with a role: the role only decides whose votes are counted, but
 * every member's failure detector still feeds the decision. Agents run inside batch jobs on busy
 * compute nodes, so one of them now and then sees a control member as unreachable for a moment.
 * Pekko treats a member that observes another as unreachable while it is itself observed as
 * unreachable as "indirectly connected" and downs it; so does it a member that observes one whose
 * gossip still arrives through others. Either way, an agent that was killed (the control member
 * observes it) while another agent hiccupped (it observes the control member), or a slow agent that
 * still gossips through its peers, downed the only control member: the whole control plane, on a
 * routine agent failure (found in CI: FerryLocalIT's frozen agent took the test's control member
 * with it).
 *
 * <p>The rules here:
 * <ul>
 *   <li>A member counts as unreachable only if a control member observes it so. A member that
 *       only agents cannot reach is not downed (the control plane still talks to it); one that a
 *       control member cannot reach is, even if agents still reach it: the control plane must.
 *   <li>Only control members can be indirectly connected: a control member that observes another
 *       control member as unreachable and is itself observed so by one, or a control member
 *       observed as unreachable that has seen the current gossip (with its observer). Then the
 *       indirectly connected control member with the lowest address is kept and the other
 *       indirectly connected ones are downed, with every agent a control member cannot reach:
 *       Pekko would down all of them, the whole control plane when its members are only split by a
 *       broken link between them.
 *   <li>Otherwise keep-majority over control members: the side with more of them survives; with
 *       equal halves, the side holding the control member with the lowest address.
 * </ul>
 * What stays Pekko's: stable-after, which member decides (the leader), acting on the decision and
 * its log line.
 */
public final class ControlMajority extends DowningStrategy {
  private final String controlRole;
  /** {@link #unreachable()}, worked out again after each change the resolver feeds in. */
  private scala.collection.immutable.Set<UniqueAddress> unreachable;

  public ControlMajority(String selfDc, String controlRole, UniqueAddress self) {
    super(selfDc, self);
    this.controlRole = controlRole;
  }

  @Override
  public Option<String> role() {
    return Option.apply(controlRole);
  }

  /** Keeps only the records whose observer is a control member. */
  @Override
  public void setReachability(Reachability reachability) {
    super.setReachability(reachability.filterRecords(record -> isControl(record.observer())));
    unreachable = null;
  }

  @Override
  public void add(Member member) {
    super.add(member);
    unreachable = null;
  }

  @Override
  public void addUnreachable(Member member) {
    super.addUnreachable(member);
    unreachable = null;
  }

  @Override
  public void addReachable(Member member) {
    super.addReachable(member);
    unreachable = null;
  }

  @Override
  public void remove(Member member) {
    super.remove(member);
    unreachable = null;
  }

  /** The members some control member observes as unreachable. */
  @Override
  public scala.collection.immutable.Set<UniqueAddress> unreachable() {
    if (unreachable == null) {
      Set<UniqueAddress> observed = CollectionConverters.asJava(reachability().allUnreachableOrTerminated());
      Set<UniqueAddress> members = new HashSet<>(CollectionConverters.asJava(super.unreachable()));
      members.retainAll(observed);
      unreachable = toScala(members);
    }
    return unreachable;
  }

  @Override
  public boolean unreachable(Member member) {
    return unreachable().contains(member.uniqueAddress());
  }

  @Override
  public scala.collection.immutable.Set<UniqueAddress> indirectlyConnected() {
    Set<UniqueAddress> observers = CollectionConverters.asJava(reachability().allObservers());
    Set<UniqueAddress> connected = new HashSet<>();
    for (Reachability.Record record : CollectionConverters.asJava(reachability().records())) {
      if (!isControl(record.subject())) continue;
      if (observers.contains(record.subject())) connected.add(record.subject());
      if (seenBy().contains(record.subject().address())) {
        connected.add(record.subject());
        connected.add(record.observer());
      }
    }
    return toScala(connected);
  }

  @Override
  public Decision decide() {
    if (hasIndirectlyConnected()) return DowningStrategy.DownIndirectlyConnected$.MODULE$;
    int reachable = reachableMembersWithRole().size();
    int unreachable = unreachableMembersWithRole().size();
    if (reachable != unreachable) {
      return reachable > unreachable ? DowningStrategy.DownUnreachable$.MODULE$ : DowningStrategy.DownReachable$.MODULE$;
    }
    // equal halves (or no control member at all): the side holding the lowest control address
    Member lowest = null;
    for (Member m : CollectionConverters.asJava(membersWithRole())) {
      if (lowest == null || Member.addressOrdering().compare(m.address(), lowest.address()) < 0) lowest = m;
    }
    return lowest != null && unreachable(lowest) ? DowningStrategy.DownReachable$.MODULE$ : DowningStrategy.DownUnreachable$.MODULE$;
  }

  @Override
  public scala.collection.immutable.Set<UniqueAddress> nodesToDown(Decision decision) {
    if (decision != DowningStrategy.DownIndirectlyConnected$.MODULE$) return super.nodesToDown(decision);
    Set<UniqueAddress> downable = new HashSet<>();
    for (Member m : CollectionConverters.asJava(members())) {
      if (m.status() != org.apache.pekko.cluster.MemberStatus.down() && m.status() != org.apache.pekko.cluster.MemberStatus.exiting()) {
        downable.add(m.uniqueAddress());
      }
    }
    for (Member m : CollectionConverters.asJava(joining())) downable.add(m.uniqueAddress());
    Set<UniqueAddress> connected = CollectionConverters.asJava(indirectlyConnected());
    UniqueAddress kept = null;
    for (UniqueAddress a : connected) {
      if (kept == null || Member.addressOrdering().compare(a.address(), kept.address()) < 0) kept = a;
    }
    Set<UniqueAddress> down = new HashSet<>(connected);
    down.remove(kept);
    for (UniqueAddress a : CollectionConverters.asJava(unreachable())) {
      if (!isControl(a)) down.add(a);
    }
    down.retainAll(downable);
    return toScala(down);
  }

  private boolean isControl(UniqueAddress address) {
    return allMembersInDC().exists(m -> m.uniqueAddress().equals(address) && m.hasRole(controlRole));
  }

  private static scala.collection.immutable.Set<UniqueAddress> toScala(Set<UniqueAddress> set) {
    return scala.collection.immutable.Set$.MODULE$.from(CollectionConverters.asScala(set));
  }
}
