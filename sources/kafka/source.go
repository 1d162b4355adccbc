package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/engine"
)

// Log attribute keys that engine has no shared constant for.
const (
	attrGroup      = "group"
	attrPartitions = "partitions" // a number of partitions
)

const (
	// lagInterval is how often the lag gauges are refreshed when no batch
	// refreshes them.
	lagInterval = 5 * time.Second
	// retryBackoff is how long the consume loop waits after the group
	// failed to join before it tries again.
	retryBackoff = 2 * time.Second
)

// Register adds the kafka source to r.
func Register(r *engine.Registry) error {
	return engine.RegisterSource(r, engine.SourceSpec[Config]{
		Name:     "kafka",
		Summary:  "Consumes Kafka topics as a consumer group, committing each partition's offset only up to what the pipeline has acknowledged.",
		Example:  `kafka: {brokers: ["localhost:9092"], topics: [game-events], group: sluice-game-telemetry, start: earliest}`,
		Bounded:  false,
		Defaults: Defaults,
		New: func(c Config, env engine.Env) (engine.Source, error) {
			return New(c, env)
		},
	})
}

// Source consumes Kafka topics as a member of a consumer group.
//
// Each batch holds records of one partition in offset order. A partition's
// offset is committed only up to the end of the batches that were
// acknowledged without error, all earlier batches of the partition
// included; see the package documentation for rebalances.
//
// Read is called from one goroutine; the Acks it returns may be called from
// any goroutine, also while Read runs.
type Source struct {
	cfg     Config
	log     *slog.Logger
	topicRE *regexp.Regexp // matches whole topic names; nil when cfg.Topics names them

	lag        prometheus.Gauge
	desired    prometheus.Gauge
	assigned   prometheus.Gauge
	rebalances prometheus.Counter

	// resume holds, per stream (topic/partition), the offset of the last
	// record a sink keeps as durable (engine.Resumer); set before Open.
	resume map[string]int64

	out       chan delivery // batches, from the partitions' goroutines to Read; unbuffered
	closed    chan struct{} // closed by Close
	closeOnce sync.Once

	// Set by Open.
	client sarama.Client
	group  sarama.ConsumerGroup
	stop   context.CancelFunc // ends the consume loop and the watcher
	wg     sync.WaitGroup     // the goroutines started by Open

	mu            sync.Mutex
	topics        []string           // topics to consume, sorted
	rejoin        context.CancelFunc // ends the current group session
	topicsChanged chan struct{}      // receives when topics changes; buffered

	partsMu sync.Mutex
	parts   map[*partition]struct{} // partitions claimed, for the lag
}

// delivery is a batch on its way to Read.
type delivery struct {
	batch engine.Batch
	ack   engine.Ack
}

// New returns a kafka source for c, which must be valid. It does no I/O.
func New(c Config, env engine.Env) (*Source, error) {
	s := &Source{
		cfg:           c,
		log:           env.Log,
		topics:        slices.Sorted(slices.Values(c.Topics)),
		out:           make(chan delivery),
		closed:        make(chan struct{}),
		topicsChanged: make(chan struct{}, 1),
		parts:         map[*partition]struct{}{},
		lag: env.Metrics.Gauge("sluice_kafka_consumer_lag",
			"Records not yet read from the partitions this instance has claimed: the high-water mark minus the next offset to read, summed over the partitions."),
		desired: env.Metrics.Gauge("sluice_kafka_desired_replicas",
			"Replicas that this instance's consumer lag asks for: ceil(lag / lag_target), at least 1. It sees only this instance's partitions."),
		assigned: env.Metrics.Gauge("sluice_kafka_partitions_assigned",
			"Partitions this instance has claimed in its consumer group."),
		rebalances: env.Metrics.Counter("sluice_kafka_rebalances_total",
			"Partition assignments this instance received from its consumer group, the first one included."),
	}
	if c.TopicsRegex != "" {
		re, err := regexp.Compile(`^(?:` + c.TopicsRegex + `)$`)
		if err != nil {
			return nil, fmt.Errorf("topics_regex: %w", err)
		}
		s.topicRE = re
	}
	return s, nil
}

// ResumeFrom implements engine.Resumer: each partition starts after the
// larger of its committed offset and the offset given for it here.
func (s *Source) ResumeFrom(positions map[string]int64) {
	s.resume = maps.Clone(positions)
}

// Open connects to the brokers, resolves topics_regex, and joins the
// consumer group in the background; ctx limits the connection attempt. A
// group that cannot be joined yet is retried, with a warning in the log,
// until Close.
func (s *Source) Open(ctx context.Context) error {
	sc, err := s.cfg.SaramaConfig()
	if err != nil {
		return err
	}
	client, err := newClient(ctx, s.cfg.Brokers, sc)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", strings.Join(s.cfg.Brokers, ","), err)
	}
	s.client = client
	if s.topicRE != nil {
		if err := s.refreshTopics(); err != nil {
			_ = client.Close()
			return err
		}
	}
	group, err := sarama.NewConsumerGroupFromClient(s.cfg.Group, client)
	if err != nil {
		_ = client.Close()
		return fmt.Errorf("consumer group %s: %w", s.cfg.Group, err)
	}
	s.group = group
	s.updateLag()
	loop, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.wg.Go(s.logErrors)
	s.wg.Go(func() { s.consume(loop) })
	s.wg.Go(func() { s.watch(loop) })
	s.log.Info("opened", attrGroup, s.cfg.Group, engine.AttrTopic, s.currentTopics())
	return nil
}

// Read returns the next batch of any claimed partition. It blocks until a
// batch is ready or ctx ends, and returns ErrClosed once Close was called.
func (s *Source) Read(ctx context.Context) (engine.Batch, engine.Ack, error) {
	select {
	case d := <-s.out:
		return d.batch, d.ack, nil
	case <-ctx.Done():
		return engine.Batch{}, nil, ctx.Err()
	case <-s.closed:
		return engine.Batch{}, nil, ErrClosed
	}
}

// Close leaves the consumer group: each claimed partition waits, up to
// rebalance_settle_timeout, for its batches in flight, commits what was
// acknowledged and is released. If ctx ends first, Close returns its error
// and the group finishes leaving in the background.
func (s *Source) Close(ctx context.Context) error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		close(s.closed)
	})
	if !first || s.group == nil {
		return nil
	}
	s.stop()
	done := make(chan error, 1)
	go func() {
		err := s.group.Close()
		s.wg.Wait()
		done <- errors.Join(err, s.client.Close())
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("leave group %s: %w", s.cfg.Group, err)
		}
		s.log.Info("closed", attrGroup, s.cfg.Group)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("leave group %s: %w", s.cfg.Group, ctx.Err())
	}
}

// SaramaConfig returns the sarama client configuration the source reads
// with for c, which must be valid. It reads the TLS files. The benchmarks'
// raw sarama consumer group reads with it too, so that the two differ only
// in what they do with the messages.
func (c Config) SaramaConfig() (*sarama.Config, error) {
	sc, err := c.Config.Sarama()
	if err != nil {
		return nil, err
	}
	sc.Consumer.Return.Errors = true
	sc.Consumer.Offsets.Initial = sarama.OffsetOldest
	if c.Start == "latest" {
		sc.Consumer.Offsets.Initial = sarama.OffsetNewest
	}
	// Only offsets that are safe to commit are ever marked, so committing
	// whatever is marked on a timer is safe.
	sc.Consumer.Offsets.AutoCommit.Enable = true
	sc.Consumer.Offsets.AutoCommit.Interval = c.CommitInterval
	sc.Consumer.Fetch.Min = int32(c.FetchMinBytes)
	sc.Consumer.Fetch.MaxBytes = int32(c.FetchMaxBytes)
	sc.Consumer.Fetch.Default = min(int32(c.FetchPartitionBytes), sc.Consumer.Fetch.MaxBytes)
	sc.Consumer.MaxWaitTime = c.MaxWait
	sc.Consumer.Group.Rebalance.Timeout = c.RebalanceTimeout
	return sc, nil
}

// newClient connects a sarama client, giving up when ctx ends. A client
// that connects after that is closed.
func newClient(ctx context.Context, brokers []string, sc *sarama.Config) (sarama.Client, error) {
	type result struct {
		client sarama.Client
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := sarama.NewClient(brokers, sc)
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		return r.client, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.err == nil {
				_ = r.client.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// consume joins the group and runs its sessions, one after the other, until
// ctx ends. sarama's Consume returns at every rebalance, when topics change
// (session) and on errors.
func (s *Source) consume(ctx context.Context) {
	h := handler{s}
	for ctx.Err() == nil {
		topics, session, end := s.session(ctx)
		if len(topics) == 0 { // topics_regex matches no topic yet
			end()
			select {
			case <-s.topicsChanged:
			case <-ctx.Done():
			}
			continue
		}
		err := s.group.Consume(session, topics, h)
		end()
		switch {
		case errors.Is(err, sarama.ErrClosedConsumerGroup):
			return
		case err != nil && ctx.Err() == nil:
			s.log.Warn("join group", attrGroup, s.cfg.Group, engine.AttrError, err)
			t := time.NewTimer(retryBackoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
	}
}

// session returns the topics to consume and a context for a group session
// on them, which ends when the topics change.
func (s *Source) session(ctx context.Context) ([]string, context.Context, context.CancelFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	session, end := context.WithCancel(ctx)
	s.rejoin = end
	return s.topics, session, end
}

// currentTopics returns the topics being consumed.
func (s *Source) currentTopics() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.topics
}

// watch refreshes the lag gauges and, with topics_regex, the matching
// topics until ctx ends.
func (s *Source) watch(ctx context.Context) {
	lag := time.NewTicker(lagInterval)
	defer lag.Stop()
	var refresh <-chan time.Time
	if s.topicRE != nil {
		t := time.NewTicker(s.cfg.TopicsRefreshInterval)
		defer t.Stop()
		refresh = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-lag.C:
			s.updateLag()
		case <-refresh:
			if err := s.refreshTopics(); err != nil {
				s.log.Warn("refresh topics", engine.AttrError, err)
			}
		}
	}
}

// refreshTopics fetches the cluster's topics and, when the set matching
// topics_regex changed, ends the group session so that the consume loop
// joins again with the new set.
func (s *Source) refreshTopics() error {
	if err := s.client.RefreshMetadata(); err != nil {
		return fmt.Errorf("refresh metadata: %w", err)
	}
	all, err := s.client.Topics()
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	matched := []string{} // not nil: nil means not resolved yet
	for _, t := range all {
		if !strings.HasPrefix(t, "__") && s.topicRE.MatchString(t) {
			matched = append(matched, t)
		}
	}
	slices.Sort(matched)

	s.mu.Lock()
	changed := !slices.Equal(matched, s.topics) || s.topics == nil
	if changed {
		s.topics = matched
		if s.rejoin != nil {
			s.rejoin()
		}
		select {
		case s.topicsChanged <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()

	switch {
	case !changed:
	case len(matched) == 0:
		s.log.Warn("no topic matches topics_regex")
	default:
		s.log.Info("topics matched", engine.AttrTopic, matched)
	}
	return nil
}

// logErrors logs the errors of the consumer group until it is closed.
func (s *Source) logErrors() {
	for err := range s.group.Errors() {
		var ce *sarama.ConsumerError
		if errors.As(err, &ce) {
			s.log.Warn("consumer group", engine.AttrTopic, ce.Topic, engine.AttrPartition, ce.Partition, engine.AttrError, ce.Err)
			continue
		}
		s.log.Warn("consumer group", attrGroup, s.cfg.Group, engine.AttrError, err)
	}
}

// updateLag sets the lag gauges from the partitions claimed now.
func (s *Source) updateLag() {
	var lag int64
	s.partsMu.Lock()
	for p := range s.parts {
		lag += p.lag()
	}
	s.partsMu.Unlock()
	s.lag.Set(float64(lag))
	s.desired.Set(float64(max(1, (lag+s.cfg.LagTarget-1)/s.cfg.LagTarget)))
}

// WaitingForAcks implements engine.AckWaiter: it reports whether a
// partition is waiting at max_pending for its batches to be acknowledged.
func (s *Source) WaitingForAcks() bool {
	s.partsMu.Lock()
	defer s.partsMu.Unlock()
	for p := range s.parts {
		if p.tracker.Waiting() {
			return true
		}
	}
	return false
}

func (s *Source) addPartition(p *partition) {
	s.partsMu.Lock()
	s.parts[p] = struct{}{}
	s.partsMu.Unlock()
}

func (s *Source) removePartition(p *partition) {
	s.partsMu.Lock()
	delete(s.parts, p)
	s.partsMu.Unlock()
	s.updateLag()
}
