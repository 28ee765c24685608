// An interruption's JSON: the form each type asks for, the answer once given, and who is
// responsible, as Octopus's InterruptionResource has them.
#include <gtest/gtest.h>

#include "model/interruption.h"

namespace cuttle::model {
namespace {

using nlohmann::json;

deploy::Interruption Manual() {
  deploy::Interruption i;
  i.id = "Interruptions-3";
  i.space_id = "Spaces-1";
  i.task_id = "ServerTasks-9";
  i.unit_key = "2/Actions-4/worker";
  i.title = "Approve the release";
  i.created = 1'800'000'000'000;
  i.details = {{"Instructions", "Check the release notes."},
               {"ResponsibleTeamIds", {"Teams-2"}},
               {"RelatedDocumentIds", {"Deployments-5", "ServerTasks-9", "Projects-1"}}};
  return i;
}

std::vector<std::string> Names(const json& elements) {
  std::vector<std::string> out;
  for (const auto& e : elements) out.push_back(e["Name"]);
  return out;
}

std::vector<std::string> Buttons(const json& element) {
  std::vector<std::string> out;
  for (const auto& b : element["Control"]["Buttons"]) out.push_back(b["Value"]);
  return out;
}

TEST(InterruptionJsonTest, AManualInterventionAsksToProceedOrAbortWithTheInstructions) {
  auto j = InterruptionJson(Manual(), "Users-1");
  EXPECT_EQ(j["Id"], "Interruptions-3");
  EXPECT_EQ(j["Type"], "ManualIntervention");
  EXPECT_EQ(j["Title"], "Approve the release");
  EXPECT_EQ(j["Created"], "2027-01-15T08:00:00.000+00:00");
  EXPECT_EQ(j["IsPending"], true);
  EXPECT_EQ(j["TaskId"], "ServerTasks-9");
  EXPECT_EQ(j["CorrelationId"], "2/Actions-4/worker");
  EXPECT_EQ(j["SpaceId"], "Spaces-1");
  EXPECT_EQ(j["IsLinkedToOtherInterruption"], false);
  EXPECT_EQ(j["RelatedDocumentIds"], json({"Deployments-5", "ServerTasks-9", "Projects-1"}));
  EXPECT_EQ(j["ResponsibleTeamIds"], json({"Teams-2"}));
  EXPECT_TRUE(j["ResponsibleUserId"].is_null());
  EXPECT_EQ(j["CanTakeResponsibility"], true);
  EXPECT_EQ(j["HasResponsibility"], false);
  const json& elements = j["Form"]["Elements"];
  EXPECT_EQ(Names(elements), (std::vector<std::string>{"Instructions", "Notes", "Result"}));
  EXPECT_EQ(elements[0]["Control"]["Type"], "Paragraph");
  EXPECT_EQ(elements[0]["Control"]["Text"], "Check the release notes.");
  EXPECT_EQ(elements[1]["Control"]["Type"], "TextArea");
  EXPECT_EQ(elements[2]["Control"]["Type"], "SubmitButtonGroup");
  EXPECT_EQ(Buttons(elements[2]), (std::vector<std::string>{"Proceed", "Abort"}));
  EXPECT_EQ(j["Form"]["Values"],
            json({{"Instructions", nullptr}, {"Notes", nullptr}, {"Result", nullptr}}));
  EXPECT_EQ(j["Links"]["Self"], "/api/Spaces-1/interruptions/Interruptions-3");
  EXPECT_EQ(j["Links"]["Submit"], "/api/Spaces-1/interruptions/Interruptions-3/submit");
  EXPECT_EQ(j["Links"]["Responsible"], "/api/Spaces-1/interruptions/Interruptions-3/responsible");
}

TEST(InterruptionJsonTest, AnAnsweredOneShowsItsValuesAndWhoIsResponsible) {
  auto i = Manual();
  i.is_pending = false;
  i.responsible_user_id = "Users-2";
  i.result = {{"Result", "Abort"}, {"Notes", "not today"}};
  auto mine = InterruptionJson(i, "users-2");
  EXPECT_EQ(mine["IsPending"], false);
  EXPECT_EQ(mine["ResponsibleUserId"], "Users-2");
  EXPECT_EQ(mine["HasResponsibility"], true);
  EXPECT_EQ(mine["CanTakeResponsibility"], false);
  EXPECT_EQ(mine["Form"]["Values"]["Result"], "Abort");
  EXPECT_EQ(mine["Form"]["Values"]["Notes"], "not today");
  EXPECT_EQ(InterruptionJson(i, "Users-1")["HasResponsibility"], false);
}

TEST(InterruptionJsonTest, GuidedFailureOffersIgnoreAndExcludeOnlyWhenTheStepMayBeSkipped) {
  deploy::Interruption i;
  i.id = "Interruptions-4";
  i.space_id = "Spaces-2";
  i.task_id = "ServerTasks-10";
  i.type = deploy::InterruptionType::kGuidedFailure;
  i.details = {{"CanIgnore", false}};
  auto required = InterruptionJson(i, "Users-1");
  EXPECT_EQ(required["Type"], "GuidedFailure");
  EXPECT_EQ(Names(required["Form"]["Elements"]), (std::vector<std::string>{"Notes", "Guidance"}));
  EXPECT_EQ(Buttons(required["Form"]["Elements"][1]), (std::vector<std::string>{"Fail", "Retry"}));
  EXPECT_EQ(required["RelatedDocumentIds"], json({"ServerTasks-10"})) << "at least its task";
  EXPECT_EQ(required["ResponsibleTeamIds"], json::array());
  i.details = {{"CanIgnore", "True"}};
  auto optional = InterruptionJson(i, "Users-1");
  EXPECT_EQ(Buttons(optional["Form"]["Elements"][1]),
            (std::vector<std::string>{"Fail", "Retry", "Ignore", "Exclude"}));
}

}  // namespace
}  // namespace cuttle::model
