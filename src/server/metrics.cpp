#include "server/metrics.h"

#include <sstream>

namespace ug::server {

void Metrics::count_request(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
}

void Metrics::observe_ttft(double s) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < kTtftBuckets.size(); ++i)
    if (s <= kTtftBuckets[i]) ++ttft_buckets_[i];
  ++ttft_count_;
  ttft_sum_ += s;
}

std::string Metrics::render(const Engine* engine) const {
  std::ostringstream o;
  o.precision(10);
  {
    std::lock_guard<std::mutex> lock(mu_);
    o << "# HELP unigemma_requests_total HTTP requests answered, by route and status.\n"
         "# TYPE unigemma_requests_total counter\n";
    for (const auto& [key, n] : requests_)
      o << "unigemma_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} "
        << n << "\n";
    o << "# HELP unigemma_time_to_first_token_seconds Time from queueing to the first sampled "
         "token.\n# TYPE unigemma_time_to_first_token_seconds histogram\n";
    for (size_t i = 0; i < kTtftBuckets.size(); ++i)
      o << "unigemma_time_to_first_token_seconds_bucket{le=\"" << kTtftBuckets[i] << "\"} "
        << ttft_buckets_[i] << "\n";
    o << "unigemma_time_to_first_token_seconds_bucket{le=\"+Inf\"} " << ttft_count_ << "\n"
      << "unigemma_time_to_first_token_seconds_sum " << ttft_sum_ << "\n"
      << "unigemma_time_to_first_token_seconds_count " << ttft_count_ << "\n";
  }
  EngineStats s;
  if (engine) s = engine->stats();
  auto metric = [&](const char* name, const char* type, const char* help, double v) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
      << name << " " << v << "\n";
  };
  metric("unigemma_prompt_tokens_total", "counter", "Prompt tokens computed (prefill).",
         double(s.prompt_tokens));
  metric("unigemma_prompt_tokens_cached_total", "counter",
         "Prompt tokens reused from a slot's prefix cache.", double(s.cached_tokens));
  metric("unigemma_generated_tokens_total", "counter", "Tokens generated.",
         double(s.generated_tokens));
  metric("unigemma_draft_tokens_total", "counter",
         "Tokens proposed by the speculative drafter (the MTP assistant).",
         double(s.drafted_tokens));
  metric("unigemma_draft_tokens_accepted_total", "counter",
         "Drafted tokens the model agreed with (kept without a pass of their own).",
         double(s.accepted_tokens));
  metric("unigemma_draft_verify_passes_total", "counter", "Forward passes that verified drafts.",
         double(s.verify_passes));
  metric("unigemma_failed_requests_total", "counter",
         "Requests that ended with an error inside the engine.", double(s.failed_requests));
  metric("unigemma_prefill_tokens_per_second", "gauge", "Average prefill speed.",
         s.prefill_seconds > 0 ? double(s.prompt_tokens) / s.prefill_seconds : 0);
  metric("unigemma_decode_tokens_per_second", "gauge",
         "Average decode speed (tokens of all slots per second of decode steps).",
         s.decode_seconds > 0 ? double(s.generated_tokens) / s.decode_seconds : 0);
  metric("unigemma_queue_length", "gauge", "Requests waiting for a slot.", s.queued);
  metric("unigemma_active_slots", "gauge", "Slots serving a request.", s.active);
  metric("unigemma_slots", "gauge", "Slots (--parallel).", s.slots);
  metric("unigemma_kv_cache_bytes_in_use", "gauge", "KV cache bytes holding positions.",
         double(s.kv_bytes_in_use));
  metric("unigemma_kv_cache_bytes_allocated", "gauge", "KV cache bytes allocated for all slots.",
         double(s.kv_bytes_allocated));
  metric("unigemma_engine_steps_total", "counter", "Forward passes run by the engine.",
         double(s.steps));
  return o.str();
}

}  // namespace ug::server
