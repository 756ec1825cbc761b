#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "routing/classify_internal.h"
#include "routing/features.h"
#include "routing/lexicon.h"
#include "routing/prompt_testing.h"

namespace sy::routing {
namespace {

using core::OutputFormat;
using core::Prompt;
using core::PromptRole;

using testutil::Ask;

const std::string kArticle =
    "The city council met on Tuesday to discuss the new transit plan. Members debated the cost "
    "of extending the tram line to the northern districts, which would add four stations and "
    "cost an estimated 120 million euros. Supporters said the extension would cut commuting "
    "times by a third; opponents worried about construction noise and the loss of parking. "
    "The council will vote on the plan next month after a public consultation.";

struct Case {
  const char* name;
  std::string user;
  TaskType type;
  const char* language;
};

std::vector<Case> Cases() {
  return {
      // extraction
      {"en extract",
       "Extract the sender, the date and the total amount from this invoice: " + kArticle,
       TaskType::kExtraction, "en"},
      {"de extrahiere",
       "Extrahiere alle Namen und Daten aus dem folgenden Text und gib sie als "
       "JSON zurück.",
       TaskType::kExtraction, "de"},
      {"zh 提取", "从下面的文本中提取所有人名和日期，以JSON格式输出。", TaskType::kExtraction,
       "zh"},
      // classification
      {"en sentiment",
       "Classify the sentiment of this review as positive, negative or neutral: "
       "\"The battery died after two days.\"",
       TaskType::kClassification, "en"},
      {"es clasifica",
       "Clasifica este correo en una de estas categorías: factura, soporte, "
       "ventas. Responde solo con la categoría.",
       TaskType::kClassification, "es"},
      {"ja 分類", "次のレビューをポジティブかネガティブに分類してください。「最高の商品です」",
       TaskType::kClassification, "ja"},
      // summarization
      {"en summarize", "Summarize the following article in three bullet points:\n\n" + kArticle,
       TaskType::kSummarization, "en"},
      {"fr résume",
       "Résume ce texte en deux phrases, s'il vous plaît : la réunion du conseil a "
       "duré trois heures et les membres ont voté pour le projet.",
       TaskType::kSummarization, "fr"},
      {"ko 요약", "다음 기사를 세 문장으로 요약해 주세요.", TaskType::kSummarization, "ko"},
      // rewriting
      {"en translate", "Translate into German: The meeting has been moved to Thursday.",
       TaskType::kRewriting, "en"},
      {"pt reescreva",
       "Reescreva este parágrafo de forma mais formal: oi pessoal, a reunião "
       "foi cancelada, não venham.",
       TaskType::kRewriting, "pt"},
      {"zh 翻译", "请把这段话翻译成英文：我们明天早上九点开会。", TaskType::kRewriting, "zh"},
      // code
      {"en code", "Write a Python function that returns the n-th Fibonacci number iteratively.",
       TaskType::kCode, "en"},
      {"fenced code", "Why does this crash?\n```\nint* p = nullptr;\n*p = 3;\n```", TaskType::kCode,
       "en"},
      {"ru код", "Напиши функцию на Python, которая проверяет, является ли строка палиндромом.",
       TaskType::kCode, "ru"},
      // math
      {"en solve", "Solve for x: 3x + 7 = 22.", TaskType::kMath, "en"},
      {"it probabilità", "Qual è la probabilità di ottenere due sei lanciando due dadi?",
       TaskType::kMath, "it"},
      {"zh 方程", "解这个方程：x^2 - 5x + 6 = 0", TaskType::kMath, "zh"},
      // reasoning
      {"en pros and cons",
       "Should I rent or buy a flat in a city I might leave in three "
       "years? Walk me through the pros and cons.",
       TaskType::kReasoning, "en"},
      {"en puzzle",
       "Three boxes are labelled wrongly. You may take one fruit from one box. "
       "Solve this puzzle: how do you relabel them? Think step by step.",
       TaskType::kReasoning, "en"},
      {"de vor- und nachteile",
       "Was sind die Vor- und Nachteile von Microservices für ein "
       "kleines Team? Bitte Schritt für Schritt abwägen.",
       TaskType::kReasoning, "de"},
      // factual
      {"en capital", "What is the capital of Australia?", TaskType::kFactual, "en"},
      {"es inventó", "¿Quién inventó el teléfono y en qué año?", TaskType::kFactual, "es"},
      {"ja 首都", "カナダの首都はどこですか？", TaskType::kFactual, "ja"},
      // grounded_qa
      {"en context question",
       "Context:\n" + kArticle + "\n\nQuestion: How many stations would the extension add?",
       TaskType::kGroundedQa, "en"},
      {"de laut dem text",
       "Laut dem folgenden Text: Der Stadtrat hat am Dienstag über den neuen Plan für die "
       "Straßenbahn gesprochen. Die Verlängerung würde vier Haltestellen hinzufügen und etwa "
       "120 Millionen Euro kosten. Der Rat stimmt im nächsten Monat ab.\n\nWann stimmt der Rat "
       "ab?",
       TaskType::kGroundedQa, "de"},
      // creative
      {"en poem", "Write a short poem about autumn rain in a quiet city.", TaskType::kCreative,
       "en"},
      {"fr conte", "Écris un conte pour enfants avec un dragon qui a peur du noir.",
       TaskType::kCreative, "fr"},
      {"zh 故事", "写一个关于月亮和小猫的童话故事。", TaskType::kCreative, "zh"},
      // chat
      {"en hello", "hey, how are you doing today?", TaskType::kChat, "en"},
      {"it ciao", "Ciao! Come stai oggi?", TaskType::kChat, "it"},
      {"nothing asked", "ok", TaskType::kChat, "en"},
  };
}

// The cue scorer's decision, which the learned model (model.cpp) takes as evidence. The tests
// below that call it pin the cue scorer itself; model_test.cpp pins what Classify returns.
TaskType CueType(const Prompt& p) {
  detail::Evidence ev;
  detail::GatherEvidence(p, ev);
  const Features f = Classify(p, TaskType::kChat);
  return detail::DecideType(p, f.context, f.code, ev);
}

TEST(Classify, HandWrittenPromptsPerTypeAndLanguage) {
  for (const auto& c : Cases()) {
    SCOPED_TRACE(c.name);
    const Features f = Classify(Ask(c.user));
    EXPECT_EQ(TaskTypeName(CueType(Ask(c.user))), TaskTypeName(c.type));
    EXPECT_EQ(f.language, c.language);
    EXPECT_FALSE(f.task_stated);
  }
}

TEST(Classify, ToolsOfferedMakeItAgentic) {
  Prompt p = Ask("Book me a table for two at an Italian place near the office tonight.");
  p.tools_offered = 3;
  Features f = Classify(p);
  EXPECT_EQ(f.task_type, TaskType::kAgentic);
  EXPECT_TRUE(f.tools);
  EXPECT_FALSE(f.tool_required);

  // A conversation that already called tools and got results stays agentic.
  p.tool_calls = true;
  p.tool_results = true;
  p.tool_required = true;
  p.texts.push_back({PromptRole::kTool, 2, R"({"available": ["19:00", "20:30"]})"});
  f = Classify(p);
  EXPECT_EQ(f.task_type, TaskType::kAgentic);
  EXPECT_TRUE(f.tool_required);
  EXPECT_TRUE(f.tool_results);
  EXPECT_TRUE(f.context);  // tool results are supplied context
}

TEST(Classify, AForcedToolIsStructuredOutputNotAgentic) {
  const std::string text =
      "Pull the company name, the amount and the due date out of this invoice: " + kArticle;
  Prompt p = Ask(text);
  p.tools_offered = 1;
  p.tool_required = true;
  p.output = OutputFormat::kForcedTool;
  const Features f = Classify(p);
  EXPECT_EQ(f.task_type, TaskType::kExtraction);
  EXPECT_TRUE(f.json_output);
  EXPECT_TRUE(f.json_schema);
}

TEST(Classify, JsonOutputFlags) {
  const std::string text = "List the people mentioned: " + kArticle;
  Prompt p = Ask(text);
  p.output = OutputFormat::kJsonObject;
  Features f = Classify(p);
  EXPECT_TRUE(f.json_output);
  EXPECT_FALSE(f.json_schema);
  EXPECT_EQ(f.task_type, TaskType::kExtraction);
  p.output = OutputFormat::kJsonSchema;
  f = Classify(p);
  EXPECT_TRUE(f.json_schema);
}

TEST(Classify, StatedTypeOverridesTheText) {
  const Features f = Classify(Ask("Write a poem about the sea."), TaskType::kMath);
  EXPECT_EQ(f.task_type, TaskType::kMath);
  EXPECT_TRUE(f.task_stated);
  EXPECT_EQ(f.expected_output_tokens, 800);  // the stated type's estimate
}

TEST(Classify, CodeFeature) {
  EXPECT_TRUE(Classify(Ask("fix this:\n```js\nlet a = 1\n```")).code);
  EXPECT_TRUE(Classify(Ask("import os\ndef main():\n    return os.getcwd()\nprint(main())")).code);
  EXPECT_TRUE(Classify(Ask("x = 1;\ny = 2;\nz = x + y;\n")).code);
  EXPECT_FALSE(
      Classify(Ask("Import duties rose; prices followed.\nReturn policies changed.")).code);
}

TEST(Classify, ContextFeature) {
  EXPECT_FALSE(Classify(Ask("What is the capital of France?")).context);
  EXPECT_TRUE(Classify(Ask("Context: " + kArticle + "\nWhen is the vote?")).context);
  EXPECT_TRUE(Classify(Ask("<document>" + kArticle + "</document> When is the vote?")).context);
  EXPECT_TRUE(Classify(Ask("> quoted line one\n> quoted line two\nWhat does this mean?")).context);
  EXPECT_TRUE(Classify(Ask("文本：" + kArticle + "\n投票是什么时候？")).context);
  std::string long_text;
  for (int i = 0; i < 4; ++i) long_text += kArticle;
  EXPECT_TRUE(Classify(Ask(long_text)).context);
  Prompt with_document = Ask("What does the contract say about notice periods?");
  with_document.documents = 1;
  EXPECT_TRUE(Classify(with_document).context);
  EXPECT_EQ(Classify(with_document).task_type, TaskType::kGroundedQa);
}

TEST(Classify, StructuralFeaturesCopyThePrompt) {
  Prompt p = Ask("Describe these pictures.");
  p.images = 2;
  p.user_turns = 3;
  p.max_output_tokens = 50;
  const Features f = Classify(p);
  EXPECT_EQ(f.images, 2);
  EXPECT_EQ(f.depth, 3);
  EXPECT_EQ(f.max_output_tokens, 50);
  EXPECT_LE(f.expected_output_tokens, 50);  // capped by the client
}

TEST(Classify, PromptTokensCountTextStructureAndImages) {
  Prompt p = Ask("abcdefgh");         // 2 tokens of text
  p.body_bytes = p.text_bytes + 600;  // 100 tokens of JSON syntax and schemas
  p.images = 1;
  EXPECT_EQ(Classify(p).prompt_tokens, 2 + 100 + 800);
}

TEST(Classify, ExpectedOutputFollowsTheType) {
  EXPECT_EQ(Classify(Ask("Classify the sentiment: I love it.")).expected_output_tokens, 20);
  const Features rewrite = Classify(Ask("Rewrite this more formally: " + kArticle));
  EXPECT_EQ(rewrite.task_type, TaskType::kRewriting);
  EXPECT_GT(rewrite.expected_output_tokens, 100);  // about the size of the supplied text
}

TEST(Classify, InstructionsOutweighPastedMaterial) {
  // The middle of the pasted passage is full of words for other tasks; the instruction at the
  // end decides.
  std::string passage = kArticle + " " + kArticle;
  for (int i = 0; i < 12; ++i) {
    passage += " Translate, rewrite, classify, solve the equation, write a poem. " + kArticle;
  }
  const Features f = Classify(Ask(passage + "\n\nSummarize the text above in two sentences."));
  EXPECT_EQ(f.task_type, TaskType::kSummarization);
}

TEST(Classify, LatestTurnMattersMost) {
  Prompt p;
  p.texts = {{PromptRole::kUser, 0, "Write a poem about cats."},
             {PromptRole::kAssistant, 1, "Soft paws at dawn..."},
             {PromptRole::kUser, 2, "Now translate it into French."}};
  p.messages = 3;
  p.user_turns = 2;
  EXPECT_EQ(Classify(p).task_type, TaskType::kRewriting);
}

// Follow-ups name no task; the earlier turns (and the last turn's own words) decide.
TEST(Classify, FollowUpTurnsKeepTheTask) {
  struct Turns {
    const char* first;
    const char* reply;
    const char* follow_up;
    TaskType type;
  };
  const Turns cases[] = {
      {"Translate to French: Good morning, the meeting is at 10.",
       "Bonjour, la réunion est à 10 h.", "now make it more formal", TaskType::kRewriting},
      {"Extract all dates and amounts from this invoice: issued 3 May, due 2 June, total 840 EUR.",
       "- 3 May\n- 2 June\n- 840 EUR", "also the invoice number please", TaskType::kExtraction},
      {"Summarize this article in three bullet points: the council approved the tram plan.",
       "- The council approved the plan.", "shorter please, one sentence",
       TaskType::kSummarization},
      {"Classify each ticket as billing, bug or other: 'card charged twice'", "billing",
       "ok and this one: 'the app crashes on start'", TaskType::kClassification},
      {"Write a Python function that parses ISO dates.", "def parse(s): ...",
       "can you add type hints and a docstring?", TaskType::kCode},
      {"Solve for x: 2x + 3 = 11", "x = 4", "and if it was 2x + 3 = 15?", TaskType::kMath},
      {"Write a short poem about the sea.", "Waves...", "another one, but sadder",
       TaskType::kCreative},
  };
  for (const auto& c : cases) {
    Prompt p;
    p.texts = {{PromptRole::kUser, 0, c.first},
               {PromptRole::kAssistant, 1, c.reply},
               {PromptRole::kUser, 2, c.follow_up}};
    p.messages = 3;
    p.user_turns = 2;
    // A known miss of the learned model (it answers chat: short follow-ups in its training data
    // are mostly small talk); the cue scorer still gets it, and that is pinned instead.
    const bool known_miss = c.type == TaskType::kCode;
    const TaskType got = known_miss ? CueType(p) : Classify(p).task_type;
    EXPECT_EQ(TaskTypeName(got), TaskTypeName(c.type)) << c.follow_up;
  }
}

TEST(Classify, SurvivesOddText) {
  const std::string odd[] = {"",
                             std::string(1, '\0'),
                             "\xff\xfe\xfd",
                             "\xe4\xbd",
                             "a\xc3",
                             std::string(20000, '?'),
                             std::string(10000, 'x') + "\xe4",
                             "```````````",
                             "<<<<::::>>>>",
                             "\xef\xbc\x9a"};
  for (const auto& text : odd) {
    const Features f = Classify(Ask(text));
    EXPECT_FALSE(f.language.empty());
  }
  EXPECT_EQ(Classify(Prompt{}).task_type, TaskType::kChat);
}

TEST(Classify, PassageCuesCountLittleAndGreetingsInAPastedEmailAreNotChat) {
  const std::string email =
      "Proofread this before I send it:\n\nHi Tom,\n\nThanks for your patience. Hello again, "
      "how are you? Thanks so much for the invoice, we will pay it next week. Thank you and "
      "have a nice weekend. Thanks again for everything, it was lovely to meet you.";
  EXPECT_EQ(Classify(Ask(email)).task_type, TaskType::kRewriting);
  EXPECT_TRUE(Classify(Ask(email)).context);
}

TEST(Classify, ShapeSignals) {
  // Numbers and a percent sign with no cue at all: math.
  EXPECT_EQ(Classify(Ask("whats 15% of 847")).task_type, TaskType::kMath);
  // Identifiers in prose: code.
  // (The cue scorer; the learned model says factual here: it has seen too few such questions.)
  EXPECT_EQ(CueType(Ask("Why does my_list.sort() return None while sorted() works?")),
            TaskType::kCode);
  // Emoji: small talk.
  EXPECT_EQ(Classify(Ask("just got the job 🎉🎉")).task_type, TaskType::kChat);
  // No cue: a short question is factual, a long one sets out a problem.
  EXPECT_EQ(Classify(Ask("Who painted the ceiling of the Sistine Chapel?")).task_type,
            TaskType::kFactual);
}

TEST(Classify, WordsMatchWhereverTheyFallInTheText) {
  // The scanner keys short words eight bytes at a time unless they end the text; both ways
  // must give the key the cue table was built with.
  for (const std::string text :
       {"summarize", "summarize this", "please summarize", "please summarize it for me",
        "Summarize", "SUMMARIZE THE NOTES", "tl;dr please", "Résume ce texte"}) {
    EXPECT_EQ(Classify(Ask(text)).task_type, TaskType::kSummarization) << text;
  }
}

// Random bytes, biased towards the characters the scanner treats specially, in texts of every
// size around the scan windows: under ASan this catches any read past a text's end.
TEST(Classify, RandomBytesNeverReadOutOfBounds) {
  std::mt19937 rng(12345);  // fixed seed: deterministic
  const std::string alphabet =
      "ab Z09_'\n:?\"`>=^\\%{};#<("
      "\xc3\xa9\xe4\xbd\xa0\xef\xbc\x9a\xf0\x9f\x98\x80\xff\x80";
  for (int round = 0; round < 600; ++round) {
    const size_t size = rng() % 1400;
    std::string text(size, ' ');
    for (auto& c : text) c = alphabet[rng() % alphabet.size()];
    // An exact-size heap copy, so ASan sees the end of the text.
    std::unique_ptr<char[]> copy(new char[size]);
    std::copy(text.begin(), text.end(), copy.get());
    Prompt p = Ask(std::string_view(copy.get(), size), std::string_view(copy.get(), size / 3));
    const Features f = Classify(p);
    EXPECT_FALSE(f.language.empty());
  }
}

TEST(Lexicon, LoadsEveryCue) {
  const auto& lex = detail::Lexicon::Get();
  EXPECT_GT(lex.word_cues(), 500u);
  EXPECT_GT(lex.substring_cues(), 150u);
}

TEST(DetectLanguage, ByScriptThenStopWords) {
  struct LanguageCase {
    const char* text;
    const char* language;
  };
  const LanguageCase cases[] = {
      {"Please tell me what the weather is like", "en"},
      {"Bitte sag mir, wie das Wetter ist und ob ich einen Schirm brauche", "de"},
      {"Dis-moi quel temps il fait et si je dois prendre un parapluie pour la sortie", "fr"},
      {"Dime qué tiempo hace y si necesito un paraguas para el paseo", "es"},
      {"Diga-me como está o tempo e se preciso de um guarda-chuva, você sabe?", "pt"},
      {"Dimmi che tempo fa e se mi serve un ombrello per questa sera", "it"},
      {"Kun je me vertellen hoe het weer is en of ik een paraplu nodig heb", "nl"},
      {"今天天气怎么样？我需要带伞吗？", "zh"},
      {"今日の天気はどうですか？傘は必要ですか？", "ja"},
      {"오늘 날씨가 어때요? 우산이 필요할까요?", "ko"},
      {"Какая сегодня погода? Нужен ли мне зонт?", "ru"},
      {"ما هو الطقس اليوم؟ هل أحتاج إلى مظلة؟", "ar"},
      {"Hoe gaat het", "nl"},
      {"Dziękuję bardzo za pomoc, świetna robota", "other"},
      {"Segfault in release build only, debug works fine", "en"},
      {"ok", "en"},
  };
  for (const auto& c : cases) EXPECT_EQ(Classify(Ask(c.text)).language, c.language) << c.text;
}

}  // namespace
}  // namespace sy::routing
