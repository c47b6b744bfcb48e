package io.ferry.nodeagent.membership;

import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Props;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.DowningProvider;
import org.apache.pekko.cluster.sbr.SplitBrainResolver$;
import org.apache.pekko.cluster.sbr.SplitBrainResolverSettings;
import scala.Option;
import scala.concurrent.duration.Duration;
import scala.concurrent.duration.FiniteDuration;

/**
 * The downing provider of every Ferry member, control and agent alike
 * ({@code pekko.cluster.downing-provider-class}): Pekko's Split Brain Resolver with
 * {@link ControlMajority} as its strategy. It reads Pekko's own settings under
 * {@code pekko.cluster.split-brain-resolver}: {@code stable-after}, {@code down-all-when-unstable},
 * and {@code keep-majority.role}, the control members' role, which must be set;
 * {@code active-strategy} must be {@code keep-majority}.
 */
public final class FerryDowningProvider extends DowningProvider {
  private final ActorSystem system;
  private final SplitBrainResolverSettings settings;

  public FerryDowningProvider(ActorSystem system) {
    this.system = system;
    this.settings = new SplitBrainResolverSettings(system.settings().config());
    if (!SplitBrainResolverSettings.KeepMajorityName().equals(settings.DowningStrategy())) {
      throw new IllegalArgumentException("pekko.cluster.split-brain-resolver.active-strategy is " + settings.DowningStrategy()
          + ": Ferry's downing provider decides keep-majority over control members; set it to keep-majority");
    }
    if (settings.keepMajorityRole().isEmpty()) {
      throw new IllegalArgumentException("pekko.cluster.split-brain-resolver.keep-majority.role is not set:"
          + " Ferry's downing provider needs the control members' role there");
    }
  }

  /** As Pekko's provider: the cluster's down-removal-margin if set, else stable-after. */
  @Override
  public FiniteDuration downRemovalMargin() {
    FiniteDuration margin = Cluster.get(system).settings().DownRemovalMargin();
    return margin.equals(Duration.Zero()) ? settings.DowningStableAfter() : margin;
  }

  @Override
  public Option<Props> downingActorProps() {
    Cluster cluster = Cluster.get(system);
    String role = settings.keepMajorityRole().get();
    ControlMajority strategy = new ControlMajority(cluster.selfDataCenter(), role, cluster.selfUniqueAddress());
    org.slf4j.LoggerFactory.getLogger(FerryDowningProvider.class).info("downing: the split brain resolver decides"
        + " keep-majority over members with role {}, counting only their observations, after {} ms of stable membership",
        role, settings.DowningStableAfter().toMillis());
    return Option.apply(SplitBrainResolver$.MODULE$.props(settings.DowningStableAfter(), strategy));
  }
}
