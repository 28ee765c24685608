// Octostache throughput on a realistic config file: a ~2 KB XML config with ~40 substitutions,
// conditionals, a loop over indexed variables and filters, against ~120 deployment variables.
// Each iteration builds a fresh Evaluator (as one step's file substitution does) and evaluates
// the file; the reused-evaluator figure shows the cost once variable values are cached.
// Usage: octostache_bench [seconds]   Prints one line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/octostache.h"

namespace {

using cuttle::engine::EvalReport;
using cuttle::engine::Evaluator;
using cuttle::engine::VariableDictionary;

VariableDictionary Variables() {
  VariableDictionary v;
  v.Set("Octopus.Environment.Name", "Production");
  v.Set("Octopus.Project.Name", "Shop Web");
  v.Set("Octopus.Release.Number", "2024.11.27.3-hotfix.2+sha.91ac2f");
  v.Set("Octopus.Deployment.Id", "Deployments-4711");
  v.Set("Octopus.Machine.Name", "web-prod-03");
  v.Set("Octopus.Action.Name", "Deploy web");
  v.Set("App.Name", "#{Octopus.Project.Name | Replace \" \" - | ToLower}");
  v.Set("App.Version",
        "#{Octopus.Release.Number | VersionMajor}.#{Octopus.Release.Number | VersionMinor}");
  v.Set("Db.Server", "sql-#{Octopus.Environment.Name | ToLower}.internal");
  v.Set("Db.Name", "shop_#{Octopus.Environment.Name | ToLower}");
  v.Set("Db.User", "shop_app");
  v.Set("Db.Password", "p<a>ss&w\"ord", true);
  v.Set("Db.Timeout", "30");
  v.Set("Cache.Host", "redis-#{Octopus.Environment.Name | ToLower}");
  v.Set("Cache.Port", "6379");
  v.Set("Cache.Enabled", "True");
  v.Set("Logging.Level",
        "#{if Octopus.Environment.Name == \"Production\"}Warning#{else}Debug#{/if}");
  v.Set("Logging.Path", "/var/log/#{App.Name}");
  v.Set("Api.BaseUrl", "https://api.example.com/#{App.Name}/v#{App.Version}");
  v.Set("Api.Key", "ak_live_4f9e8d7c6b5a", true);
  v.Set("Smtp.Host", "smtp.example.com");
  v.Set("Smtp.Port", "587");
  v.Set("Smtp.From", "noreply@example.com");
  v.Set("Features", "search,cart,wishlist,reviews,recommendations");
  v.Set("Workers", "4");
  v.Set("Maintenance", "False");
  v.Set("Banner", "Welcome to *Shop*");
  for (int i = 0; i < 6; ++i) {
    std::string s = "Service" + std::to_string(i);
    v.Set("Services[" + s + "].Url", "http://" + s + ".internal:80" + std::to_string(i));
    v.Set("Services[" + s + "].Timeout", std::to_string(5 + i));
  }
  // Variables a real deployment carries but this file does not use.
  for (int i = 0; i < 80; ++i) {
    v.Set("Octopus.Action[Step " + std::to_string(i) + "].Output.Value",
          "value " + std::to_string(i));
  }
  return v;
}

const char* kTemplate = R"(<?xml version="1.0" encoding="utf-8"?>
<!-- #{Octopus.Project.Name} #{Octopus.Release.Number} deployed to #{Octopus.Environment.Name} by #{Octopus.Deployment.Id} -->
<configuration>
  <appSettings>
    <add key="App.Name" value="#{App.Name}" />
    <add key="App.Version" value="#{App.Version}" />
    <add key="App.Environment" value="#{Octopus.Environment.Name | ToUpper}" />
    <add key="App.Machine" value="#{Octopus.Machine.Name}" />
    <add key="App.Workers" value="#{calc Workers*2}" />
    <add key="Api.BaseUrl" value="#{Api.BaseUrl}" />
    <add key="Api.Key" value="#{Api.Key | XmlEscape}" />
    <add key="Api.KeyHash" value="#{Api.Key | Sha256 8}" />
    <add key="Logging.Level" value="#{Logging.Level}" />
    <add key="Logging.Path" value="#{Logging.Path}" />
    <add key="Banner" value="#{Banner | Markdown | Trim | XmlEscape}" />
    <add key="Maintenance" value="#{Maintenance | ToLower}" />
    <add key="Release.Channel" value="#{Octopus.Release.Number | VersionPreReleasePrefix}" />
  </appSettings>
  <connectionStrings>
    <add name="Shop" connectionString="Server=#{Db.Server};Database=#{Db.Name};User Id=#{Db.User};Password=#{Db.Password | XmlEscape};Connect Timeout=#{Db.Timeout}" />
#{if Cache.Enabled}    <add name="Cache" connectionString="#{Cache.Host}:#{Cache.Port},abortConnect=false" />
#{/if}  </connectionStrings>
  <features>
#{each f in Features}    <feature name="#{f}" enabled="true" order="#{Octopus.Template.Each.Index}" />
#{/each}  </features>
  <services>
#{each s in Services}    <service name="#{s}" url="#{s.Url}" timeout="#{s.Timeout}"#{if Octopus.Template.Each.Last} last="true"#{/if} />
#{/each}  </services>
  <smtp host="#{Smtp.Host}" port="#{Smtp.Port}" from="#{Smtp.From}" />
#{unless Octopus.Environment.Name == "Production"}  <debug enabled="true" />
#{else}  <debug enabled="false" />
#{/unless}  <health path="/health" tag="#{Octopus.Action.Name | Replace " " _ | ToLower}" />
</configuration>
)";

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  VariableDictionary vars = Variables();
  {
    EvalReport report;
    auto out = Evaluator(vars).Evaluate(kTemplate, &report);
    if (!out || !report.ok()) {
      std::fprintf(stderr, "benchmark template did not evaluate cleanly: %s\n",
                   out ? report.Message().c_str() : out.error().message().c_str());
      return 1;
    }
  }
  auto run = [&](bool fresh) {
    std::vector<double> micros;
    Evaluator shared(vars);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      auto t0 = std::chrono::steady_clock::now();
      if (fresh) {
        Evaluator e(vars);
        (void)e.Evaluate(kTemplate);
      } else {
        (void)shared.Evaluate(kTemplate);
      }
      micros.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(micros.begin(), micros.end());
    double total = 0;
    for (double m : micros) total += m;
    return std::pair<double, double>(micros.size() / (total / 1e6), micros[micros.size() / 2]);
  };
  auto [fresh_rate, fresh_p50] = run(true);
  auto [warm_rate, warm_p50] = run(false);
  std::printf(
      "octostache: %zu B config, %zu variables, %.0f templates/s (p50 %.1f us) with a new "
      "evaluator each; %.0f templates/s (p50 %.1f us) reusing one\n",
      std::string(kTemplate).size(), vars.size(), fresh_rate, fresh_p50, warm_rate, warm_p50);
  return 0;
}
