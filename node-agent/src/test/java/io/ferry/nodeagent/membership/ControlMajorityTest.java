package io.ferry.nodeagent.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.Member$;
import org.apache.pekko.cluster.Reachability;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.sbr.DowningStrategy;
import org.apache.pekko.cluster.sbr.KeepMajority;
import org.apache.pekko.util.Version;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The decisions of {@link ControlMajority} for the membership pictures that matter to Ferry, each
 * as the Split Brain Resolver would feed it (members, the aggregated unreachable set, the gossip's
 * reachability records, who has seen the current gossip), next to what Pekko's own keep-majority
 * decides where the two differ.
 */
class ControlMajorityTest {
  static final String DC = "default";
  final Member control = member("control", 25520);
  final Member control2 = member("control", 25521);
  final Member control3 = member("control", 25522);
  final Member agentA = member("agent", 30001);
  final Member agentB = member("agent", 30002);
  final Member frozen = member("agent", 30003);

  @Test
  void aKilledAgentIsDownedWhileAnotherAgentThatSeesTheControlMemberUnreachableForAMomentDownsNothingElse() {
    // the control member and agent A observe the frozen agent; agent B (busy) observes the control member
    Reachability r = Reachability.empty()
        .unreachable(control.uniqueAddress(), frozen.uniqueAddress())
        .unreachable(agentA.uniqueAddress(), frozen.uniqueAddress())
        .unreachable(agentB.uniqueAddress(), control.uniqueAddress());
    List<Member> all = List.of(control, agentA, agentB, frozen);
    DowningStrategy ours = fed(new ControlMajority(DC, "control", control.uniqueAddress()), all, r, List.of(frozen, control), Set.of());
    assertEquals(DowningStrategy.DownUnreachable$.MODULE$, ours.decide());
    assertEquals(Set.of(frozen.uniqueAddress()), down(ours));

    // what Pekko's keep-majority does with the same picture: the control member is "indirectly connected", and
    // working out the rest without it is "indirectly connected" again, so it downs every member
    DowningStrategy pekko = fed(new KeepMajority(DC, scala.Option.apply("control"), control.uniqueAddress()), all, r,
        List.of(frozen, control), Set.of());
    assertEquals(Set.of(control.uniqueAddress(), agentA.uniqueAddress(), agentB.uniqueAddress(), frozen.uniqueAddress()), down(pekko));
  }

  @Test
  void aSlowAgentTheControlMemberCannotReachIsDownedAloneEvenThoughItsGossipStillArrivesThroughOtherAgents() {
    Reachability r = Reachability.empty().unreachable(control.uniqueAddress(), agentB.uniqueAddress());
    List<Member> all = List.of(control, agentA, agentB);
    Set<Address> seen = Set.of(control.address(), agentA.address(), agentB.address());
    DowningStrategy ours = fed(new ControlMajority(DC, "control", control.uniqueAddress()), all, r, List.of(agentB), seen);
    assertEquals(Set.of(agentB.uniqueAddress()), down(ours));

    DowningStrategy pekko = fed(new KeepMajority(DC, scala.Option.apply("control"), control.uniqueAddress()), all, r,
        List.of(agentB), seen);
    assertTrue(down(pekko).contains(control.uniqueAddress()), "Pekko's keep-majority downs " + down(pekko));
  }

  @Test
  void aMemberOnlyAgentsCannotReachIsNotUnreachable() {
    Reachability r = Reachability.empty().unreachable(agentA.uniqueAddress(), agentB.uniqueAddress());
    DowningStrategy ours = fed(new ControlMajority(DC, "control", control.uniqueAddress()), List.of(control, agentA, agentB), r,
        List.of(agentB), Set.of());
    assertTrue(ours.unreachable().isEmpty(), "the resolver decides only while something is unreachable: " + ours.unreachable());
  }

  @Test
  void theMajorityOfControlMembersDownsTheOneTheyCannotReachWithItsAgents() {
    Reachability r = Reachability.empty()
        .unreachable(control.uniqueAddress(), control3.uniqueAddress())
        .unreachable(control2.uniqueAddress(), control3.uniqueAddress())
        .unreachable(control.uniqueAddress(), agentB.uniqueAddress());
    List<Member> all = List.of(control, control2, control3, agentA, agentB);
    DowningStrategy ours = fed(new ControlMajority(DC, "control", control.uniqueAddress()), all, r, List.of(control3, agentB), Set.of());
    assertEquals(DowningStrategy.DownUnreachable$.MODULE$, ours.decide());
    assertEquals(Set.of(control3.uniqueAddress(), agentB.uniqueAddress()), down(ours));
  }

  @Test
  void theMinorityDownsItsOwnSide() {
    // seen from control3, cut off from the other two control members; agent A is with it
    Reachability r = Reachability.empty()
        .unreachable(control3.uniqueAddress(), control.uniqueAddress())
        .unreachable(control3.uniqueAddress(), control2.uniqueAddress());
    List<Member> all = List.of(control, control2, control3, agentA);
    DowningStrategy ours = fed(new ControlMajority(DC, "control", control3.uniqueAddress()), all, r, List.of(control, control2), Set.of());
    assertEquals(DowningStrategy.DownReachable$.MODULE$, ours.decide());
    assertEquals(Set.of(control3.uniqueAddress(), agentA.uniqueAddress()), down(ours));
  }

  @Test
  void twoControlMembersThatCannotReachEachOtherKeepTheLowestAddressInsteadOfDowningBoth() {
    // the broken link is only between them: agents carry each side's observation to the other
    Reachability r = Reachability.empty()
        .unreachable(control.uniqueAddress(), control2.uniqueAddress())
        .unreachable(control2.uniqueAddress(), control.uniqueAddress());
    List<Member> all = List.of(control, control2, agentA);
    DowningStrategy ours = fed(new ControlMajority(DC, "control", control2.uniqueAddress()), all, r, List.of(control, control2), Set.of());
    assertEquals(DowningStrategy.DownIndirectlyConnected$.MODULE$, ours.decide());
    assertEquals(Set.of(control2.uniqueAddress()), down(ours));

    DowningStrategy pekko = fed(new KeepMajority(DC, scala.Option.apply("control"), control2.uniqueAddress()), all, r,
        List.of(control, control2), Set.of());
    assertTrue(down(pekko).containsAll(Set.of(control.uniqueAddress(), control2.uniqueAddress())), "Pekko's keep-majority downs " + down(pekko));
  }

  @Test
  void equalHalvesKeepTheSideWithTheLowestControlAddress() {
    Reachability r = Reachability.empty().unreachable(control2.uniqueAddress(), control.uniqueAddress());
    List<Member> all = List.of(control, control2, agentA);
    DowningStrategy fromSecond = fed(new ControlMajority(DC, "control", control2.uniqueAddress()), all, r, List.of(control), Set.of());
    assertEquals(DowningStrategy.DownReachable$.MODULE$, fromSecond.decide());
    Reachability mirrored = Reachability.empty().unreachable(control.uniqueAddress(), control2.uniqueAddress());
    DowningStrategy fromFirst = fed(new ControlMajority(DC, "control", control.uniqueAddress()), all, mirrored, List.of(control2), Set.of());
    assertEquals(Set.of(control2.uniqueAddress()), down(fromFirst));
  }

  /** The strategy as the resolver feeds it: members, unreachable events, the records, who has seen the gossip. */
  static DowningStrategy fed(DowningStrategy strategy, List<Member> members, Reachability reachability,
      List<Member> unreachable, Set<Address> seenBy) {
    members.forEach(strategy::add);
    unreachable.forEach(strategy::addUnreachable);
    strategy.setReachability(reachability);
    strategy.setSeenBy(CollectionConverters.asScala(seenBy).toSet());
    return strategy;
  }

  /**
   * Whom the resolver downs on the strategy's decision: as its actOnDecision, a decision the
   * strategy cannot work out (IllegalStateException) becomes "down all".
   */
  static Set<UniqueAddress> down(DowningStrategy strategy) {
    scala.collection.immutable.Set<UniqueAddress> nodes;
    try {
      nodes = strategy.nodesToDown(strategy.decide());
    } catch (IllegalStateException e) {
      nodes = strategy.nodesToDown(DowningStrategy.DownAll$.MODULE$);
    }
    return Set.copyOf(CollectionConverters.asJava(nodes));
  }

  private static int uid = 1;

  static Member member(String role, int port) {
    UniqueAddress address = new UniqueAddress(new Address("pekko", "ferry", "127.0.0.1", port), (long) uid++);
    scala.collection.immutable.Set<String> roles = CollectionConverters.asScala(Set.of(role, "dc-" + DC)).toSet();
    return Member$.MODULE$.apply(address, roles, Version.Zero()).copyUp(port);
  }
}
