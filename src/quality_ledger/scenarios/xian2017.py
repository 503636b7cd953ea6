"""Xi'an's 2017 Quality Month, the library's reference case, as data plus a loader.

The campaign is kept as plain, typed data so that a demo can show a realistic
ledger, tests can compare what the ledger recorded with figures worked out from
the data alone (:func:`expected`), and anyone can vary the data and watch the
figures move. :func:`load` records it only through public commands, with the
actor of the department that would really act, so the scenario meets the same
rules and permissions a service would. Every command carries an idempotency key
derived from the data, so loading again (a restarted demo, a re-run seed job)
records nothing new.

The campaign, its theme, departments and named activities come from the China
Quality News Network report (reporter Jiang Dan) in ``shared/seed``. The
inspected enterprises, sites and markets, samples, results, nominees, penalties
and progress figures other than "58 experts, 88 enterprises" are invented for
illustration and describe no real party.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID

from quality_ledger import commands as c
from quality_ledger.domain.values import (
    ActivityKind,
    ActivityState,
    Actor,
    CommendationState,
    FocusArea,
    InspectionState,
    SubjectKind,
    Verdict,
)
from quality_ledger.ledger import Ledger
from quality_ledger.receipts import Receipt

__all__ = [
    "ACTIVITIES",
    "BULLETINS",
    "CAMPAIGN",
    "CONCLUSION",
    "DEPARTMENTS",
    "INSPECTIONS",
    "NOMINATIONS",
    "XIAN_2017",
    "ActivitySpec",
    "BulletinSpec",
    "CampaignSpec",
    "Cancelled",
    "Completed",
    "ConclusionSpec",
    "DepartmentSpec",
    "Expected",
    "FollowUp",
    "InspectionSpec",
    "MediaSpec",
    "NominationSpec",
    "PenaltySpec",
    "Postponed",
    "Progress",
    "RectificationSpec",
    "Retest",
    "SampleSpec",
    "Scenario",
    "Schedule",
    "TransferSpec",
    "clerk",
    "conclude",
    "expected",
    "load",
]


def d(month: int, day: int) -> date:
    """A business date in 2017, the scenario's year."""
    return date(2017, month, day)


def clerk(department: str) -> Actor:
    """The person who keys in a department's records, e.g. ``clerk.qts`` for XA-QTS."""
    return Actor(user=f"clerk.{department.removeprefix('XA-').lower()}", department=department)


# The shape of the data -----------------------------------------------------------


@dataclass(frozen=True)
class CampaignSpec:
    title: str
    theme: str
    purpose: str
    organiser: str
    organiser_name_zh: str
    organiser_name_en: str
    partners: tuple[str, ...]
    starts_on: date
    ends_on: date
    launched_on: date
    focus_areas: tuple[FocusArea, ...] = tuple(FocusArea)


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Schedule:
    starts_on: date
    ends_on: date
    place: str


@dataclass(frozen=True)
class Progress:
    """One progress report: how much was added to each metric that day."""

    reported_on: date
    amounts: Mapping[str, int]


@dataclass(frozen=True)
class Completed:
    on: date
    outcome: str


@dataclass(frozen=True)
class Postponed:
    """Postponed before it started (the ledger allows no other postponement)."""

    reason: str


@dataclass(frozen=True)
class Cancelled:
    reason: str


@dataclass(frozen=True)
class ActivitySpec:
    key: str
    title_zh: str
    title_en: str
    lead: str
    focus_area: FocusArea
    kind: ActivityKind
    schedule: Schedule
    started_on: date | None = None
    progress: tuple[Progress, ...] = ()
    ending: Completed | Postponed | Cancelled | None = None
    partners: tuple[str, ...] = ()
    targets: Mapping[str, int] = field(default_factory=dict)
    planned_by_organiser: bool = False

    @property
    def title(self) -> str:
        return f"{self.title_zh} / {self.title_en}"

    @property
    def state(self) -> ActivityState:
        if isinstance(self.ending, Completed):
            return ActivityState.COMPLETED
        if isinstance(self.ending, Postponed):
            return ActivityState.POSTPONED
        if isinstance(self.ending, Cancelled):
            return ActivityState.CANCELLED
        return ActivityState.STARTED if self.started_on else ActivityState.SCHEDULED

    def achieved(self) -> dict[str, int]:
        totals = dict.fromkeys(self.targets, 0)
        for report in self.progress:
            for metric, amount in report.amounts.items():
                totals[metric] += amount
        return totals


@dataclass(frozen=True)
class Retest:
    """The subject's objection to a failed result, and the re-test (复检) it led to."""

    lodged_on: date
    tested_on: date | None = None
    failed_items: tuple[str, ...] = ()
    """Empty: the re-test passed and overturns the original failure."""


@dataclass(frozen=True)
class SampleSpec:
    sample_id: str
    product: str
    batch: str
    taken_on: date
    tested_on: date | None = None
    failed_items: tuple[str, ...] = ()
    objection: Retest | None = None

    @property
    def tested(self) -> bool:
        return self.tested_on is not None

    @property
    def failed_originally(self) -> bool:
        return self.tested and bool(self.failed_items)

    @property
    def retested(self) -> bool:
        return self.objection is not None and self.objection.tested_on is not None

    @property
    def failed(self) -> bool:
        """The current result failed: a re-test replaces the original."""
        if self.objection is not None and self.objection.tested_on is not None:
            return bool(self.objection.failed_items)
        return self.failed_originally


@dataclass(frozen=True)
class FollowUp:
    verified_on: date
    passed: bool
    notes: str


@dataclass(frozen=True)
class RectificationSpec:
    ordered_on: date
    due_on: date
    requirements: str
    follow_up: FollowUp | None = None


@dataclass(frozen=True)
class PenaltySpec:
    amount: Decimal
    reason: str
    decided_on: date


@dataclass(frozen=True)
class TransferSpec:
    authority: str
    transferred_on: date


@dataclass(frozen=True)
class InspectionSpec:
    reference: str
    department: str
    kind: str
    subject: str
    subject_kind: SubjectKind
    product_category: str
    planned_on: date
    samples: tuple[SampleSpec, ...]
    activity: str | None = None
    """Key of the activity the inspection belongs to; None: the campaign itself."""
    notified_on: date | None = None
    rectification: RectificationSpec | None = None
    penalty: PenaltySpec | None = None
    transfer: TransferSpec | None = None
    closed_on: date | None = None

    @property
    def verdict(self) -> Verdict | None:
        if self.notified_on is None:
            return None
        return Verdict.NONCONFORMING if any(s.failed for s in self.samples) else Verdict.CONFORMING

    @property
    def state(self) -> InspectionState:
        r = self.rectification
        if self.closed_on is not None:
            return InspectionState.CLOSED
        if self.transfer is not None:
            return InspectionState.TRANSFERRED
        if self.penalty is not None:
            return InspectionState.PENALISED
        if r is not None and r.follow_up is not None:
            return InspectionState.RECTIFIED if r.follow_up.passed else InspectionState.RECTIFICATION_FAILED
        if r is not None:
            return InspectionState.RECTIFICATION_ORDERED
        if self.notified_on is not None:
            return InspectionState.VERDICT_ISSUED
        return InspectionState.SAMPLING if self.samples else InspectionState.PLANNED


@dataclass(frozen=True)
class BulletinSpec:
    key: str
    title: str
    published_by: str
    published_on: date
    inspections: tuple[str, ...]
    """References of the inspections it lists."""


@dataclass(frozen=True)
class MediaSpec:
    outlet: str
    title: str
    published_on: date


@dataclass(frozen=True)
class NominationSpec:
    key: str
    person: str
    employer: str
    deeds: str
    nominated_by: str
    reviewed_on: date
    rejection: str | None = None
    """The reviewer's reason to reject; None: approved."""
    ceremony: str | None = None
    """Key of the award-ceremony activity where it is conferred."""
    conferred_on: date | None = None
    publicity: tuple[MediaSpec, ...] = ()

    @property
    def state(self) -> CommendationState:
        if self.rejection is not None:
            return CommendationState.REJECTED
        if self.ceremony is not None and self.conferred_on is not None:
            return CommendationState.CONFERRED
        return CommendationState.APPROVED


@dataclass(frozen=True)
class ConclusionSpec:
    concluded_on: date
    summary: str
    override_reason: str | None = None


@dataclass(frozen=True)
class Scenario:
    key: str
    """Prefix of every idempotency key: change it to load a variant beside the original."""
    campaign: CampaignSpec
    departments: tuple[DepartmentSpec, ...]
    activities: tuple[ActivitySpec, ...]
    inspections: tuple[InspectionSpec, ...]
    bulletins: tuple[BulletinSpec, ...]
    nominations: tuple[NominationSpec, ...]
    conclusion: ConclusionSpec

    def activity(self, key: str) -> ActivitySpec:
        return next(a for a in self.activities if a.key == key)

    def inspection(self, reference: str) -> InspectionSpec:
        return next(i for i in self.inspections if i.reference == reference)


# The campaign and its departments ----------------------------------------------------

ORGANISER = "XA-QPC"
PROVINCIAL_BUREAU = "陕西省质监局 / Shaanxi Provincial Quality and Technical Supervision Bureau"

CAMPAIGN = CampaignSpec(
    title="西安市2017年质量月活动 / Xi'an 2017 Quality Month",
    theme="大力提升质量，奋力追赶超越，建设品质西安 / Vigorously raise quality, strive to catch up and surpass, build a Quality Xi'an",
    purpose=(
        "巩固和扩大“全国质量强市示范城市”成果，深化质量强市战略，以质量促转型、以质量促创新、以质量促发展 / "
        "Consolidate the title of National Quality-Strong City Demonstration City; "
        "let quality drive transformation, innovation and development"
    ),
    organiser=ORGANISER,
    organiser_name_zh="西安市质量强市工作推进委员会办公室",
    organiser_name_en="Xi'an Quality-Strong City Work Promotion Committee Office",
    partners=(PROVINCIAL_BUREAU,),
    starts_on=d(9, 1),
    ends_on=d(9, 30),
    launched_on=d(9, 1),
)

DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec("XA-QTS", "市质监局", "Quality and Technical Supervision Bureau"),
    DepartmentSpec("XA-DRC", "市发改委", "Development and Reform Commission"),
    DepartmentSpec("XA-CON", "市建委", "Urban-Rural Construction Commission"),
    DepartmentSpec("XA-COM", "市商务局", "Commerce Bureau"),
    DepartmentSpec("XA-IIT", "市工信委", "Industry and Information Technology Commission"),
    DepartmentSpec("XA-EDU", "市教育局", "Education Bureau"),
    DepartmentSpec("XA-AGF", "市农林委", "Agriculture and Forestry Commission"),
    DepartmentSpec("XA-FDA", "市食品药监局", "Food and Drug Administration"),
    DepartmentSpec("XA-AIC", "市工商局", "Administration for Industry and Commerce"),
    DepartmentSpec("XA-HFP", "市卫计委", "Health and Family Planning Commission"),
    DepartmentSpec("XA-TRA", "市交通局", "Transport Bureau"),
    DepartmentSpec("XA-TOU", "市旅游局", "Tourism Bureau"),
)

# Activities ---------------------------------------------------------------------------
# The Office is not one of the 12 departments, so the campaign-wide activities it
# plans (press conference, events with the provincial bureau, experts into
# enterprises, the craftsman ceremony) are run by XA-QTS, which hosts the Office.

E = FocusArea.EVERYONE_TAKES_PART
L = FocusArea.LIVELIHOOD
CS = FocusArea.CRAFTSMAN_SPIRIT
K = ActivityKind

ACTIVITIES: tuple[ActivitySpec, ...] = (
    # Campaign-wide, planned by the Office ---------------------------------------
    ActivitySpec(
        "press-conference",
        "西安市2017年质量月活动新闻发布会",
        "Quality Month press conference",
        "XA-QTS",
        E,
        K.PRESS_CONFERENCE,
        Schedule(d(9, 1), d(9, 1), "西安市人民政府新闻发布厅"),
        started_on=d(9, 1),
        ending=Completed(
            d(9, 1), "发布质量月活动方案，12个市级部门介绍活动安排 / Plan announced; 12 departments presented"
        ),
        planned_by_organiser=True,
    ),
    ActivitySpec(
        "sanqin-tour",
        "“奋力创新超越，迈向质量时代”卓越质量三秦行——走进西安",
        "Excellent Quality Sanqin Tour - into Xi'an",
        "XA-QTS",
        E,
        K.MEETING,
        Schedule(d(9, 7), d(9, 7), "西安高新区"),
        started_on=d(9, 7),
        ending=Completed(d(9, 7), "走访卓越绩效企业6家，召开质量发展座谈会 / 6 excellence-model firms visited"),
        partners=(PROVINCIAL_BUREAU,),
        planned_by_organiser=True,
    ),
    ActivitySpec(
        "qc-group-meeting",
        "“全面提升质量，建设质量强省”QC小组活动现场推进会",
        "QC-group on-site promotion meeting",
        "XA-QTS",
        E,
        K.MEETING,
        Schedule(d(9, 14), d(9, 14), "西安经济技术开发区"),
        started_on=d(9, 14),
        ending=Completed(d(9, 14), "32个QC小组现场发表成果 / 32 QC groups presented results"),
        partners=(PROVINCIAL_BUREAU,),
        planned_by_organiser=True,
    ),
    ActivitySpec(
        "experts-into-enterprises",
        "“质量专家进企业提质量”活动",
        "Quality experts into enterprises",
        "XA-QTS",
        E,
        K.EXPERT_VISIT,
        Schedule(d(9, 4), d(9, 29), "全市各区县、开发区企业"),
        started_on=d(9, 4),
        progress=(
            Progress(d(9, 8), {"experts": 21, "enterprises": 30}),
            Progress(d(9, 15), {"experts": 19, "enterprises": 31}),
            Progress(d(9, 22), {"experts": 18, "enterprises": 27}),
        ),
        ending=Completed(d(9, 29), "58名质量管理专家深入88家企业，诊断质量问题312项 / 58 experts, 88 enterprises"),
        targets={"experts": 58, "enterprises": 88},
        planned_by_organiser=True,
    ),
    ActivitySpec(
        "craftsman-ceremony",
        "“西安质量工匠”表彰暨“弘扬工匠精神，助力追赶超越，建设品质西安”主旨演讲活动",
        "Xi'an Quality Craftsman award ceremony and keynote speeches",
        "XA-QTS",
        CS,
        K.AWARD_CEREMONY,
        Schedule(d(9, 26), d(9, 26), "西安人民大厦会议中心"),
        started_on=d(9, 26),
        ending=Completed(d(9, 26), "表彰西安质量工匠4名，工匠代表作主旨演讲 / 4 craftsmen commended"),
        planned_by_organiser=True,
    ),
    ActivitySpec(
        "craftsman-publicity",
        "“西安质量工匠”系列宣传活动",
        "Xi'an Quality Craftsman publicity series",
        "XA-QTS",
        CS,
        K.PUBLICITY,
        Schedule(d(9, 26), d(10, 31), "西安日报、西安电视台、中国质量新闻网等媒体"),
        started_on=d(9, 27),
        planned_by_organiser=True,
    ),
    # XA-QTS -----------------------------------------------------------------------
    ActivitySpec(
        "key-consumer-goods",
        "重点消费品专项整治",
        "Special rectification of key consumer goods",
        "XA-QTS",
        L,
        K.ENFORCEMENT,
        Schedule(d(9, 4), d(9, 29), "全市生产企业及商品交易市场"),
        started_on=d(9, 4),
        ending=Completed(d(9, 29), "抽查电线电缆、纤维纺织品、装饰装修材料企业和市场7家 / 7 subjects checked"),
    ),
    ActivitySpec(
        "special-equipment",
        "特种设备安全大检查大整治",
        "Special-equipment safety inspection and rectification",
        "XA-QTS",
        L,
        K.ENFORCEMENT,
        Schedule(d(9, 1), d(9, 30), "全市电梯使用单位及公众聚集场所"),
        started_on=d(9, 1),
        ending=Completed(d(9, 30), "检查电梯使用单位，隐患当场责令停用整改 / Hazards ordered fixed on the spot"),
    ),
    ActivitySpec(
        "standards",
        "标准引领活动",
        "Standards leadership",
        "XA-QTS",
        E,
        K.PUBLICITY,
        Schedule(d(9, 11), d(9, 15), "西安市标准化研究院"),
        started_on=d(9, 11),
        ending=Completed(d(9, 15), "企业标准自我声明公开宣贯会2场 / 2 briefings on published enterprise standards"),
    ),
    ActivitySpec(
        "brands",
        "品牌带动活动",
        "Brand promotion",
        "XA-QTS",
        E,
        K.PUBLICITY,
        Schedule(d(9, 18), d(9, 22), "曲江国际会展中心"),
        started_on=d(9, 18),
        ending=Completed(d(9, 22), "西安名牌产品展示，参展企业45家 / 45 brand exhibitors"),
    ),
    ActivitySpec(
        "metrology-for-the-people",
        "“计量惠民”活动",
        "Metrology for the people",
        "XA-QTS",
        L,
        K.OTHER,
        Schedule(d(9, 11), d(9, 22), "全市加油站、集贸市场、医疗机构"),
        started_on=d(9, 11),
        ending=Completed(d(9, 22), "加油站计量检查与集贸市场公平秤复核 / Fuel dispensers and market scales checked"),
    ),
    ActivitySpec(
        "knowledge-into-communities",
        "质量知识进社区进学校",
        "Quality knowledge into communities and schools",
        "XA-QTS",
        E,
        K.EDUCATION,
        Schedule(d(9, 5), d(9, 28), "碑林区、莲湖区、雁塔区社区及中小学"),
        started_on=d(9, 5),
        ending=Completed(d(9, 28), "进社区12场、进学校8场 / 12 community and 8 school sessions"),
    ),
    ActivitySpec(
        "quality-lecture-hall",
        "质量大讲堂",
        "Quality lecture hall",
        "XA-QTS",
        E,
        K.EDUCATION,
        Schedule(d(9, 21), d(9, 21), "西安市质监局培训中心"),
        ending=Postponed(
            "主讲专家临时参加国家质检总局专项督查，延期至10月中旬 / Speaker called away; moved to mid-October"
        ),
    ),
    ActivitySpec(
        "elevator-training",
        "电梯安全管理培训",
        "Elevator safety management training",
        "XA-QTS",
        L,
        K.TRAINING,
        Schedule(d(9, 12), d(9, 12), "西安市特种设备检验所"),
        started_on=d(9, 12),
        ending=Completed(d(9, 12), "培训电梯使用单位安全管理人员420人 / 420 elevator safety managers trained"),
    ),
    ActivitySpec(
        "emergency-drills",
        "特种设备应急演练",
        "Special-equipment emergency drills",
        "XA-QTS",
        L,
        K.DRILL,
        Schedule(d(9, 20), d(9, 20), "小寨商圈大型商场"),
        started_on=d(9, 20),
        ending=Completed(d(9, 20), "电梯困人及自动扶梯逆转应急救援演练 / Elevator-entrapment rescue drill held"),
    ),
    ActivitySpec(
        "special-equipment-outreach",
        "特种设备安全知识进社区、进校园、进企业",
        "Special-equipment safety knowledge into communities, schools and enterprises",
        "XA-QTS",
        L,
        K.EDUCATION,
        Schedule(d(9, 6), d(9, 27), "全市社区、学校、企业"),
        started_on=d(9, 6),
        ending=Completed(d(9, 27), "发放安全乘梯宣传资料1.2万份 / 12,000 leaflets on safe elevator use"),
    ),
    ActivitySpec(
        "free-testing",
        "实验室开放日暨室内空气质量、运动装、珠宝玉石、血压计、人体秤免费检测",
        "Lab open day and free testing of indoor air, sportswear, jewellery and jade, blood-pressure monitors, scales",
        "XA-QTS",
        L,
        K.FREE_TESTING,
        Schedule(d(9, 16), d(9, 24), "西安市产品质量监督检验院"),
        started_on=d(9, 16),
        progress=(Progress(d(9, 17), {"tests": 612}), Progress(d(9, 24), {"tests": 688})),
        ending=Completed(d(9, 24), "为市民免费检测1300件次 / 1,300 free tests for citizens"),
        targets={"tests": 1000},
    ),
    # Other departments --------------------------------------------------------------
    ActivitySpec(
        "innovation-exhibition",
        "“大众创业、万众创新”成果展示活动",
        "Mass entrepreneurship and innovation results exhibition",
        "XA-DRC",
        E,
        K.EXHIBITION,
        Schedule(d(9, 15), d(9, 18), "西安国际展览中心"),
        started_on=d(9, 15),
        ending=Completed(d(9, 18), "展示双创成果项目86项 / 86 projects exhibited"),
    ),
    ActivitySpec(
        "construction-site-meeting",
        "西安市质量施工现场会",
        "Construction-quality on-site meeting",
        "XA-CON",
        E,
        K.MEETING,
        Schedule(d(9, 19), d(9, 19), "浐灞生态区质量示范工地"),
        started_on=d(9, 19),
        ending=Completed(d(9, 19), "观摩示范工地，推广工程质量标准化做法 / Model site visited"),
    ),
    ActivitySpec(
        "construction-sampling",
        "全市建筑工程质量抽测",
        "City-wide construction quality sampling tests",
        "XA-CON",
        L,
        K.ENFORCEMENT,
        Schedule(d(9, 5), d(10, 31), "全市在建房屋建筑工程"),
        started_on=d(9, 5),
    ),
    ActivitySpec(
        "integrity-in-business",
        "“诚信兴商宣传月”活动",
        "Integrity in Business publicity month",
        "XA-COM",
        E,
        K.PUBLICITY,
        Schedule(d(9, 1), d(9, 30), "全市商贸流通企业"),
        started_on=d(9, 1),
        ending=Completed(d(9, 30), "商贸企业诚信经营签名承诺 / Traders signed integrity commitments"),
    ),
    ActivitySpec(
        "made-in-china-2025",
        "宣贯《中国制造2025》",
        "Promotion of Made in China 2025",
        "XA-IIT",
        E,
        K.PUBLICITY,
        Schedule(d(9, 12), d(9, 12), "西安市工信委报告厅"),
        started_on=d(9, 12),
        ending=Completed(d(9, 12), "宣讲会1场，重点工业企业负责人参加 / Briefing for key manufacturers"),
    ),
    ActivitySpec(
        "quality-benchmark-exchange",
        "质量标杆经验交流活动",
        "Quality-benchmark experience exchange",
        "XA-IIT",
        E,
        K.MEETING,
        Schedule(d(9, 19), d(9, 19), "西安市工信委报告厅"),
        ending=Cancelled("与市建委质量施工现场会同日，经协调并入其经验交流环节 / Merged into the on-site meeting"),
    ),
    ActivitySpec(
        "school-quality-education",
        "依托国家、省、市三级中小学质量教育基地开展中小学质量教育活动",
        "Quality education in primary and secondary schools",
        "XA-EDU",
        E,
        K.EDUCATION,
        Schedule(d(9, 11), d(11, 30), "国家、省、市三级中小学质量教育基地"),
        started_on=d(9, 11),
        progress=(Progress(d(9, 22), {"schools": 12}), Progress(d(9, 29), {"schools": 9})),
        targets={"schools": 30},
    ),
    ActivitySpec(
        "farm-machinery-quality",
        "“强化质量监管，促进绿色发展”农机质量系列活动",
        "Farm-machinery quality series",
        "XA-AGF",
        E,
        K.PUBLICITY,
        Schedule(d(9, 6), d(9, 28), "全市农机经销网点"),
        started_on=d(9, 6),
        ending=Completed(d(9, 28), "农机产品质量调查与维修服务进村 / Farm-machinery survey and repair service"),
    ),
    ActivitySpec(
        "fake-farm-inputs",
        "秋季农资打假",
        "Autumn campaign against fake farm inputs",
        "XA-AGF",
        L,
        K.ENFORCEMENT,
        Schedule(d(9, 5), d(11, 30), "全市农资经营门店及批发市场"),
        started_on=d(9, 5),
    ),
    ActivitySpec(
        "seed-spot-checks",
        "种子质量监督抽查",
        "Seed-quality spot checks",
        "XA-AGF",
        L,
        K.ENFORCEMENT,
        Schedule(d(9, 12), d(9, 29), "全市种子生产经营单位"),
        started_on=d(9, 12),
        ending=Completed(d(9, 29), "秋播小麦、玉米种子抽样检测 / Autumn-sowing seed lots tested"),
    ),
    ActivitySpec(
        "food-safety-week",
        "“尚德守法，共治共享食品安全”宣传周",
        "Food-safety publicity week",
        "XA-FDA",
        E,
        K.PUBLICITY,
        Schedule(d(9, 18), d(9, 24), "钟楼广场"),
        started_on=d(9, 18),
        ending=Completed(d(9, 24), "现场咨询及快检体验 / Consultation and quick-test stands"),
    ),
    ActivitySpec(
        "protect-the-seedlings",
        "“护苗2017——食药安全伴我成长”科普宣传",
        "Protect the Seedlings 2017 outreach",
        "XA-FDA",
        L,
        K.EDUCATION,
        Schedule(d(9, 4), d(9, 29), "全市中小学校园"),
        started_on=d(9, 4),
        ending=Completed(d(9, 29), "进校园科普讲座26场 / 26 school talks"),
    ),
    ActivitySpec(
        "food-lab-open-day",
        "食品安全风险监测实验室开放日及“眼见为‘食’”系列宣传",
        "Food-safety risk-monitoring lab open day and 'Seeing is eating' series",
        "XA-FDA",
        L,
        K.PUBLICITY,
        Schedule(d(9, 23), d(9, 23), "西安市食品药品检验所"),
        started_on=d(9, 23),
        ending=Completed(d(9, 23), "市民代表参观检验流程 / Citizens toured the lab"),
    ),
    ActivitySpec(
        "enterprise-quality-testing",
        "企业质量检测活动",
        "Enterprise quality testing",
        "XA-AIC",
        E,
        K.OTHER,
        Schedule(d(9, 5), d(9, 29), "全市重点商品经营企业"),
        started_on=d(9, 5),
        ending=Completed(d(9, 29), "指导经营企业开展进货查验 / Traders coached on incoming inspection"),
    ),
    ActivitySpec(
        "online-market",
        "网络市场监管专项行动",
        "Online-market supervision",
        "XA-AIC",
        L,
        K.ENFORCEMENT,
        Schedule(d(9, 1), d(12, 31), "全市网络交易平台及网店"),
        started_on=d(9, 1),
    ),
    ActivitySpec(
        "market-circulation-round-3",
        "2017年第三次流通领域商品质量抽查检验",
        "Third 2017 round of market-circulation product sampling",
        "XA-AIC",
        L,
        K.ENFORCEMENT,
        Schedule(d(9, 11), d(9, 29), "全市商场、超市、购物中心"),
        started_on=d(9, 11),
        ending=Completed(d(9, 29), "抽样完成，送检验机构检验 / Sampling done; samples with the lab"),
    ),
    ActivitySpec(
        "hospital-services",
        "改善医院环境提升医疗服务专项行动",
        "Hospital environment and medical-service improvement",
        "XA-HFP",
        E,
        K.OTHER,
        Schedule(d(9, 1), d(12, 31), "全市二级以上医院"),
        started_on=d(9, 1),
    ),
    ActivitySpec(
        "highway-maintenance",
        "2017干线公路养护工程示范创建",
        "2017 trunk-highway maintenance demonstration",
        "XA-TRA",
        E,
        K.OTHER,
        Schedule(d(9, 1), d(11, 30), "国省干线公路西安段"),
        started_on=d(9, 1),
    ),
    ActivitySpec(
        "passenger-survey",
        "创建精品线路及旅客服务质量满意度调查",
        "Showcase routes and passenger service satisfaction survey",
        "XA-TRA",
        L,
        K.SURVEY,
        Schedule(d(9, 11), d(9, 27), "城区客运站及精品公交线路"),
        started_on=d(9, 11),
        ending=Completed(d(9, 27), "回收问卷3150份，满意度92.6% / 3,150 responses, 92.6% satisfied"),
    ),
    ActivitySpec(
        "cheap-tours-clean-up",
        "以“不合理低价游”专项整治为重点的旅游市场综合治理",
        "Tourism market clean-up against unreasonably cheap tours",
        "XA-TOU",
        E,
        K.ENFORCEMENT,
        Schedule(d(9, 1), d(9, 30), "全市旅行社及旅游景区"),
        started_on=d(9, 1),
        ending=Completed(d(9, 30), "检查旅行社143家，立案查处5起 / 143 agencies checked, 5 cases opened"),
    ),
    ActivitySpec(
        "travel-integrity-pledge",
        "组织签订《旅行社诚信经营承诺书》",
        "Travel agencies sign an integrity pledge",
        "XA-TOU",
        L,
        K.OTHER,
        Schedule(d(9, 8), d(9, 8), "西安市旅游局"),
        started_on=d(9, 8),
        ending=Completed(d(9, 8), "全市旅行社签订诚信经营承诺书 / Agencies signed the pledge"),
    ),
)

# Inspections ------------------------------------------------------------------------

CONSUMER_GOODS_CHECK = "重点消费品专项整治执法检查 / Key consumer goods enforcement check"
QUALITY_SAMPLING = "全市建筑工程质量抽测 / Construction quality sampling"
FARM_INPUTS_CHECK = "秋季农资打假执法检查 / Fake farm inputs enforcement check"
SEED_CHECK = "种子质量监督抽查 / Seed quality spot check"
METROLOGY_CHECK = "加油站计量监督检查 / Gas-station metrology check"
CERTIFICATION_CHECK = "认证产品执法检查 / Certified-product enforcement check"
ELEVATOR_CHECK = "特种设备（电梯）专项检查 / Special-equipment (elevator) check"
CIRCULATION_SAMPLING = "2017年第三次流通领域商品质量抽查检验 / Third 2017 market-circulation sampling"

ENTERPRISE = SubjectKind.ENTERPRISE
SITE = SubjectKind.SITE
MARKET = SubjectKind.MARKET

INSPECTIONS: tuple[InspectionSpec, ...] = (
    # Wires and cables: a failure upheld on re-test, a failed follow-up, a penalty.
    InspectionSpec(
        "QTS-2017-DX-01",
        "XA-QTS",
        CONSUMER_GOODS_CHECK,
        "西安渭水电缆有限公司",
        ENTERPRISE,
        "电线电缆",
        d(9, 5),
        (
            SampleSpec(
                "DX01-1",
                "聚氯乙烯绝缘电缆 BV 450/750V 1×2.5mm²",
                "20170815",
                d(9, 6),
                d(9, 15),
                ("导体电阻", "绝缘最薄处厚度"),
                objection=Retest(d(9, 25), d(10, 9), ("导体电阻",)),
            ),
            SampleSpec("DX01-2", "聚氯乙烯绝缘电缆 BV 450/750V 1×4mm²", "20170820", d(9, 6), d(9, 15)),
            SampleSpec("DX01-3", "聚氯乙烯绝缘软电缆 RVV 300/500V 3×1.5mm²", "20170728", d(9, 6), d(9, 15)),
            SampleSpec("DX01-4", "聚氯乙烯绝缘软电缆 BVR 450/750V 1×6mm²", "20170802", d(9, 6), d(9, 15)),
        ),
        activity="key-consumer-goods",
        notified_on=d(9, 20),
        rectification=RectificationSpec(
            d(10, 10),
            d(10, 24),
            "停止生产、销售不合格批次并召回已售产品，落实铜导体原材料进货检验 / Stop sales, recall, check copper intake",
            FollowUp(
                d(10, 26), passed=False, notes="复查抽样导体电阻仍超标，进货检验制度未落实 / Still over resistance"
            ),
        ),
        penalty=PenaltySpec(
            Decimal("50000.00"),
            "整改复查仍不合格，依据《中华人民共和国产品质量法》第四十九条处罚 / Follow-up failed: Product Quality Law art. 49",
            d(10, 30),
        ),
        closed_on=d(10, 31),
    ),
    # Wires and cables in a market: the only failure is overturned on re-test.
    InspectionSpec(
        "QTS-2017-DX-02",
        "XA-QTS",
        CONSUMER_GOODS_CHECK,
        "西安市未央区华盛建材市场",
        MARKET,
        "电线电缆",
        d(9, 6),
        (
            SampleSpec(
                "DX02-1",
                "聚氯乙烯绝缘电缆 BV 450/750V 1×2.5mm²",
                "20170701",
                d(9, 7),
                d(9, 14),
                ("绝缘老化前断裂伸长率",),
                objection=Retest(d(9, 22), d(9, 29)),
            ),
            SampleSpec("DX02-2", "聚氯乙烯绝缘电缆 BV 450/750V 1×1.5mm²", "20170622", d(9, 7), d(9, 14)),
            SampleSpec("DX02-3", "聚氯乙烯绝缘软电缆 RVV 300/500V 2×1.0mm²", "20170630", d(9, 7), d(9, 14)),
        ),
        activity="key-consumer-goods",
        notified_on=d(9, 18),
        closed_on=d(10, 9),
    ),
    InspectionSpec(
        "QTS-2017-DX-03",
        "XA-QTS",
        CONSUMER_GOODS_CHECK,
        "陕西长安线缆有限公司",
        ENTERPRISE,
        "电线电缆",
        d(9, 7),
        (
            SampleSpec("DX03-1", "聚氯乙烯绝缘电缆 BV 450/750V 1×2.5mm²", "20170821", d(9, 8), d(9, 15)),
            SampleSpec("DX03-2", "聚氯乙烯绝缘电缆 BV 450/750V 1×10mm²", "20170809", d(9, 8), d(9, 15)),
            SampleSpec("DX03-3", "聚氯乙烯绝缘护套电缆 BVV 300/500V 2×2.5mm²", "20170725", d(9, 8), d(9, 15)),
        ),
        activity="key-consumer-goods",
        notified_on=d(9, 19),
        closed_on=d(9, 20),
    ),
    # Fibre textiles.
    InspectionSpec(
        "QTS-2017-FW-01",
        "XA-QTS",
        CONSUMER_GOODS_CHECK,
        "西安东郊纺织服装批发市场",
        MARKET,
        "纤维纺织品",
        d(9, 8),
        (
            SampleSpec("FW01-1", "男式纯棉衬衫", "JK-1707", d(9, 11), d(9, 19), ("纤维含量",)),
            SampleSpec("FW01-2", "儿童针织套装", "ET-1708", d(9, 11), d(9, 19)),
            SampleSpec("FW01-3", "床上用品四件套", "CS-0612", d(9, 11), d(9, 19)),
            SampleSpec("FW01-4", "女式羊毛衫", "YM-1709", d(9, 11), d(9, 19)),
        ),
        activity="key-consumer-goods",
        notified_on=d(9, 22),
        rectification=RectificationSpec(
            d(9, 25),
            d(10, 20),
            "下架不合格批次，核对纤维含量标识，建立进货索证索票制度 / Withdraw the lot, fix labels, keep supplier papers",
            FollowUp(d(10, 19), passed=True, notes="不合格批次已下架，标识已更正 / Lot withdrawn, labels corrected"),
        ),
        closed_on=d(10, 20),
    ),
    InspectionSpec(
        "QTS-2017-FW-02",
        "XA-QTS",
        CONSUMER_GOODS_CHECK,
        "陕西秦织服饰有限公司",
        ENTERPRISE,
        "纤维纺织品",
        d(9, 8),
        (
            SampleSpec("FW02-1", "女式针织T恤", "QZ-170811", d(9, 12), d(9, 20)),
            SampleSpec("FW02-2", "男式休闲裤", "QZ-170803", d(9, 12), d(9, 20)),
            SampleSpec("FW02-3", "婴幼儿纯棉内衣", "QZ-170722", d(9, 12), d(9, 20)),
        ),
        activity="key-consumer-goods",
        notified_on=d(9, 22),
        closed_on=d(9, 25),
    ),
    # Decoration materials: rectification ordered, follow-up still due.
    InspectionSpec(
        "QTS-2017-ZX-01",
        "XA-QTS",
        CONSUMER_GOODS_CHECK,
        "西安居美建材家居城",
        MARKET,
        "装饰装修材料",
        d(9, 11),
        (
            SampleSpec("ZX01-1", "强化木地板", "QH-170603", d(9, 13), d(9, 22), ("甲醛释放量",)),
            SampleSpec("ZX01-2", "内墙乳胶漆", "NQ-170721", d(9, 13), d(9, 22)),
            SampleSpec("ZX01-3", "PVC壁纸", "BZ-1706", d(9, 13), d(9, 22)),
            SampleSpec("ZX01-4", "陶瓷砖", "TC-170518", d(9, 13), d(9, 22)),
        ),
        activity="key-consumer-goods",
        notified_on=d(9, 27),
        rectification=RectificationSpec(
            d(10, 10),
            d(11, 10),
            "停止销售该批次强化木地板，向生产企业追溯并公示整改情况 / Stop selling the lot, trace the maker",
        ),
    ),
    InspectionSpec(
        "QTS-2017-ZX-02",
        "XA-QTS",
        CONSUMER_GOODS_CHECK,
        "西安华美涂料有限公司",
        ENTERPRISE,
        "装饰装修材料",
        d(9, 11),
        (
            SampleSpec("ZX02-1", "合成树脂乳液内墙涂料", "HM-170805", d(9, 13), d(9, 22)),
            SampleSpec("ZX02-2", "合成树脂乳液外墙涂料", "HM-170812", d(9, 13), d(9, 22)),
            SampleSpec("ZX02-3", "聚氨酯木器漆", "HM-170719", d(9, 13), d(9, 22)),
        ),
        activity="key-consumer-goods",
        notified_on=d(9, 27),
        closed_on=d(9, 28),
    ),
    # Construction quality sampling (sites).
    InspectionSpec(
        "CON-2017-JC-01",
        "XA-CON",
        QUALITY_SAMPLING,
        "高新区丈八六路安置房项目二标段施工现场",
        SITE,
        "建筑工程材料及实体质量",
        d(9, 6),
        (
            SampleSpec(
                "JC01-1", "热轧带肋钢筋 HRB400E Φ20", "炉号7A2316", d(9, 8), d(9, 15), ("屈服强度", "最大力总伸长率")
            ),
            SampleSpec("JC01-2", "C30混凝土标准养护试块", "2#楼12层", d(9, 8), d(9, 15)),
            SampleSpec("JC01-3", "蒸压加气混凝土砌块", "B06-0823", d(9, 8), d(9, 15)),
            SampleSpec("JC01-4", "SBS改性沥青防水卷材", "F170801", d(9, 8), d(9, 15)),
        ),
        activity="construction-sampling",
        notified_on=d(9, 18),
        rectification=RectificationSpec(
            d(9, 18),
            d(10, 18),
            "该批钢筋全部退场，已浇筑部位委托检测并经设计单位复核 / Remove the lot; test and re-check poured parts",
            FollowUp(
                d(10, 16), passed=True, notes="钢筋已退场，实体检测满足设计要求 / Steel removed, structure meets design"
            ),
        ),
        closed_on=d(10, 17),
    ),
    InspectionSpec(
        "CON-2017-JC-02",
        "XA-CON",
        QUALITY_SAMPLING,
        "灞桥区纺织城保障房项目三标段施工现场",
        SITE,
        "建筑工程材料及实体质量",
        d(9, 6),
        (
            SampleSpec("JC02-1", "热轧带肋钢筋 HRB400E Φ16", "炉号7B1102", d(9, 11), d(9, 18)),
            SampleSpec("JC02-2", "C35混凝土标准养护试块", "5#楼8层", d(9, 11), d(9, 18)),
            SampleSpec("JC02-3", "烧结多孔砖", "SK-0901", d(9, 11), d(9, 18)),
        ),
        activity="construction-sampling",
        notified_on=d(9, 20),
        closed_on=d(9, 21),
    ),
    # Still testing: concrete cubes cure for 28 days.
    InspectionSpec(
        "CON-2017-JC-03",
        "XA-CON",
        QUALITY_SAMPLING,
        "未央区汉城路学校建设项目施工现场",
        SITE,
        "建筑工程材料及实体质量",
        d(9, 25),
        (
            SampleSpec("JC03-1", "热轧带肋钢筋 HRB400E Φ22", "炉号7C0415", d(9, 27), d(10, 11)),
            SampleSpec("JC03-2", "SBS改性沥青防水卷材", "F170906", d(9, 27), d(10, 11)),
            SampleSpec("JC03-3", "C40混凝土标准养护试块（28天龄期未到）", "教学楼3层", d(9, 27)),
        ),
        activity="construction-sampling",
    ),
    # Fake farm inputs: suspected fakes are transferred to the police.
    InspectionSpec(
        "AGF-2017-NZ-01",
        "XA-AGF",
        FARM_INPUTS_CHECK,
        "周至县农资批发市场",
        MARKET,
        "农资（化肥、农药）",
        d(9, 8),
        (
            SampleSpec("NZ01-1", "复合肥料 15-15-15", "20170805", d(9, 11), d(9, 20), ("总养分", "氯离子含量")),
            SampleSpec("NZ01-2", "41%草甘膦异丙胺盐水剂", "170703", d(9, 11), d(9, 20), ("有效成分含量",)),
            SampleSpec("NZ01-3", "尿素", "20170710", d(9, 11), d(9, 20)),
            SampleSpec("NZ01-4", "磷酸二铵", "20170612", d(9, 11), d(9, 20)),
        ),
        activity="fake-farm-inputs",
        notified_on=d(9, 22),
        transfer=TransferSpec("周至县公安局 / Zhouzhi County Public Security Bureau", d(9, 28)),
    ),
    InspectionSpec(
        "AGF-2017-NZ-02",
        "XA-AGF",
        FARM_INPUTS_CHECK,
        "西安丰农农资有限公司",
        ENTERPRISE,
        "农资（化肥、农药）",
        d(9, 8),
        (
            SampleSpec("NZ02-1", "硫酸钾复合肥 17-17-17", "20170716", d(9, 12), d(9, 20)),
            SampleSpec("NZ02-2", "吡虫啉可湿性粉剂", "170602", d(9, 12), d(9, 20)),
            SampleSpec("NZ02-3", "有机肥料", "20170801", d(9, 12), d(9, 20)),
        ),
        activity="fake-farm-inputs",
        notified_on=d(9, 22),
        closed_on=d(9, 25),
    ),
    # Seed quality: a substandard lot is penalised directly.
    InspectionSpec(
        "AGF-2017-ZZ-01",
        "XA-AGF",
        SEED_CHECK,
        "西安关中种业有限公司",
        ENTERPRISE,
        "农作物种子",
        d(9, 12),
        (
            SampleSpec("ZZ01-1", "小麦种子 西农979", "2017-XN-016", d(9, 13), d(9, 25), ("发芽率",)),
            SampleSpec("ZZ01-2", "小麦种子 小偃22", "2017-XY-008", d(9, 13), d(9, 25)),
            SampleSpec("ZZ01-3", "玉米种子 郑单958", "2017-ZD-031", d(9, 13), d(9, 25)),
            SampleSpec("ZZ01-4", "小麦种子 矮抗58", "2017-AK-004", d(9, 13), d(9, 25)),
        ),
        activity="seed-spot-checks",
        notified_on=d(9, 27),
        penalty=PenaltySpec(
            Decimal("20000.00"),
            "销售发芽率低于国家标准的种子，依据《中华人民共和国种子法》第七十五条处罚 / Seed Law art. 75",
            d(10, 12),
        ),
        closed_on=d(10, 13),
    ),
    InspectionSpec(
        "AGF-2017-ZZ-02",
        "XA-AGF",
        SEED_CHECK,
        "阎良区关山种子门市部",
        ENTERPRISE,
        "农作物种子",
        d(9, 12),
        (
            SampleSpec("ZZ02-1", "小麦种子 西农979", "2017-XN-022", d(9, 14), d(9, 25)),
            SampleSpec("ZZ02-2", "小麦种子 西农509", "2017-XN-031", d(9, 14), d(9, 25)),
            SampleSpec("ZZ02-3", "油菜种子 秦优10号", "2017-QY-003", d(9, 14), d(9, 25)),
        ),
        activity="seed-spot-checks",
        notified_on=d(9, 27),
        closed_on=d(9, 28),
    ),
    # Gas-station metrology: each fuel nozzle is a "sample", tested on the spot.
    InspectionSpec(
        "QTS-2017-JL-01",
        "XA-QTS",
        METROLOGY_CHECK,
        "西安南二环东段加油站",
        ENTERPRISE,
        "燃油加油机",
        d(9, 13),
        (
            SampleSpec("JL01-1", "燃油加油机 1号枪（92号汽油）", "出厂编号TQ1503112", d(9, 14), d(9, 14)),
            SampleSpec(
                "JL01-2", "燃油加油机 2号枪（95号汽油）", "出厂编号TQ1503113", d(9, 14), d(9, 14), ("示值误差超差",)
            ),
            SampleSpec("JL01-3", "燃油加油机 3号枪（0号柴油）", "出厂编号TQ1503114", d(9, 14), d(9, 14)),
            SampleSpec("JL01-4", "燃油加油机 4号枪（92号汽油）", "出厂编号TQ1503115", d(9, 14), d(9, 14)),
        ),
        activity="metrology-for-the-people",
        notified_on=d(9, 15),
        rectification=RectificationSpec(
            d(9, 15),
            d(9, 25),
            "停用2号枪，经法定计量检定机构调修并重新检定合格后方可使用 / Seal nozzle 2 until re-verified",
            FollowUp(d(9, 22), passed=True, notes="2号枪重新检定合格 / Nozzle 2 re-verified"),
        ),
        closed_on=d(9, 22),
    ),
    InspectionSpec(
        "QTS-2017-JL-02",
        "XA-QTS",
        METROLOGY_CHECK,
        "西安北郊凤城加油站",
        ENTERPRISE,
        "燃油加油机",
        d(9, 13),
        (
            SampleSpec("JL02-1", "燃油加油机 1号枪（92号汽油）", "出厂编号ZS1601021", d(9, 18), d(9, 18)),
            SampleSpec("JL02-2", "燃油加油机 2号枪（92号汽油）", "出厂编号ZS1601022", d(9, 18), d(9, 18)),
            SampleSpec("JL02-3", "燃油加油机 3号枪（95号汽油）", "出厂编号ZS1601023", d(9, 18), d(9, 18)),
            SampleSpec("JL02-4", "燃油加油机 4号枪（0号柴油）", "出厂编号ZS1601024", d(9, 18), d(9, 18)),
        ),
        activity="metrology-for-the-people",
        notified_on=d(9, 18),
        closed_on=d(9, 19),
    ),
    # Certified products: verdict notified, enforcement decision still to come.
    InspectionSpec(
        "QTS-2017-RZ-01",
        "XA-QTS",
        CERTIFICATION_CHECK,
        "西安小寨电子商城",
        MARKET,
        "强制性认证（CCC）产品",
        d(9, 18),
        (
            SampleSpec("RZ01-1", "多用途转换插座", "ZH-1705", d(9, 19), d(9, 26), ("CCC认证证书已注销",)),
            SampleSpec("RZ01-2", "电热水壶", "DR-1706", d(9, 19), d(9, 26)),
            SampleSpec("RZ01-3", "儿童电动玩具车", "WJ-1707", d(9, 19), d(9, 26)),
        ),
        notified_on=d(9, 29),
    ),
    # Elevators: each lift is a "sample", identified by its registration code.
    InspectionSpec(
        "QTS-2017-DT-01",
        "XA-QTS",
        ELEVATOR_CHECK,
        "雁塔区曲江华庭住宅小区",
        SITE,
        "电梯",
        d(9, 4),
        (
            SampleSpec("DT01-1", "曳引驱动乘客电梯 1号楼1号梯", "注册代码31106101002013080123", d(9, 5), d(9, 5)),
            SampleSpec(
                "DT01-2",
                "曳引驱动乘客电梯 1号楼2号梯",
                "注册代码31106101002013080124",
                d(9, 5),
                d(9, 5),
                ("层门门锁啮合长度不足7mm",),
            ),
            SampleSpec("DT01-3", "曳引驱动乘客电梯 2号楼1号梯", "注册代码31106101002013080125", d(9, 5), d(9, 5)),
            SampleSpec("DT01-4", "曳引驱动乘客电梯 2号楼2号梯", "注册代码31106101002013080126", d(9, 5), d(9, 5)),
        ),
        activity="special-equipment",
        notified_on=d(9, 6),
        rectification=RectificationSpec(
            d(9, 6),
            d(9, 20),
            "立即停用1号楼2号梯，由维保单位调整层门门锁，经检验合格后恢复使用 / Stop the lift until the door lock is fixed",
            FollowUp(d(9, 19), passed=True, notes="门锁已调整，复检合格 / Door lock fixed and re-inspected"),
        ),
        closed_on=d(9, 20),
    ),
    InspectionSpec(
        "QTS-2017-DT-02",
        "XA-QTS",
        ELEVATOR_CHECK,
        "碑林区南大街时代商厦",
        SITE,
        "电梯",
        d(9, 4),
        (
            SampleSpec("DT02-1", "自动扶梯 1层至2层", "注册代码33106101002012050011", d(9, 6), d(9, 6)),
            SampleSpec("DT02-2", "自动扶梯 2层至3层", "注册代码33106101002012050012", d(9, 6), d(9, 6)),
            SampleSpec("DT02-3", "曳引驱动载货电梯 货梯", "注册代码31206101002012050013", d(9, 6), d(9, 6)),
        ),
        activity="special-equipment",
        notified_on=d(9, 7),
        closed_on=d(9, 8),
    ),
    # The third 2017 round of market-circulation sampling.
    InspectionSpec(
        "AIC-2017-LT-01",
        "XA-AIC",
        CIRCULATION_SAMPLING,
        "西安东大街百货商场",
        MARKET,
        "家用电器及电子产品",
        d(9, 11),
        (
            SampleSpec("LT01-1", "移动式插座（插线板）", "CX-170602", d(9, 13), d(9, 27), ("插头插套拔出力",)),
            SampleSpec("LT01-2", "电热水壶 1.7L", "DH-170511", d(9, 13), d(9, 27)),
            SampleSpec("LT01-3", "电吹风", "CF-170420", d(9, 13), d(9, 27)),
            SampleSpec("LT01-4", "LED台灯", "TD-170715", d(9, 13), d(9, 27)),
        ),
        activity="market-circulation-round-3",
        notified_on=d(10, 11),
        rectification=RectificationSpec(
            d(10, 27),
            d(11, 27),
            "下架并停止销售不合格插线板，向供货商追溯并公示 / Withdraw the power strips, trace the supplier",
        ),
    ),
    InspectionSpec(
        "AIC-2017-LT-02",
        "XA-AIC",
        CIRCULATION_SAMPLING,
        "西安城北万佳购物广场",
        MARKET,
        "服装鞋帽及纺织品",
        d(9, 11),
        (
            SampleSpec("LT02-1", "运动鞋", "YD-170610", d(9, 13), d(9, 27)),
            SampleSpec("LT02-2", "儿童服装", "ET-170702", d(9, 13), d(9, 27)),
            SampleSpec("LT02-3", "床上用品", "CP-170519", d(9, 13), d(9, 27)),
            SampleSpec("LT02-4", "皮鞋", "PX-170622", d(9, 13), d(9, 27)),
        ),
        activity="market-circulation-round-3",
        notified_on=d(10, 11),
        closed_on=d(10, 27),
    ),
    # Samples with the lab: no results yet.
    InspectionSpec(
        "AIC-2017-LT-03",
        "XA-AIC",
        CIRCULATION_SAMPLING,
        "曲江新区乐享购物中心",
        MARKET,
        "儿童用品",
        d(9, 25),
        (
            SampleSpec("LT03-1", "儿童自行车", "ZX-170708", d(9, 27)),
            SampleSpec("LT03-2", "塑胶玩具", "WJ-170811", d(9, 27)),
            SampleSpec("LT03-3", "儿童安全座椅", "AQ-170603", d(9, 27)),
        ),
        activity="market-circulation-round-3",
    ),
)

BULLETINS: tuple[BulletinSpec, ...] = (
    BulletinSpec(
        "q3-product-quality",
        "西安市2017年第三季度产品质量监督抽查结果通报 / Q3 2017 product-quality supervision spot-check results",
        "XA-QTS",
        d(10, 20),
        (
            "QTS-2017-DX-01",
            "QTS-2017-DX-02",
            "QTS-2017-DX-03",
            "QTS-2017-FW-01",
            "QTS-2017-FW-02",
            "QTS-2017-ZX-01",
            "QTS-2017-ZX-02",
            "QTS-2017-RZ-01",
        ),
    ),
    BulletinSpec(
        "market-circulation-round-3",
        "2017年第三次流通领域商品质量抽查检验结果公告 / Results of the third 2017 market-circulation sampling",
        "XA-AIC",
        d(10, 30),
        ("AIC-2017-LT-01", "AIC-2017-LT-02"),
    ),
)

# Commendations ------------------------------------------------------------------------

NOMINATIONS: tuple[NominationSpec, ...] = (
    NominationSpec(
        "wang-jianjun",
        "王建军",
        "西安秦川数控机床有限公司",
        "从事精密磨削28年，主导主轴磨削工艺攻关，关键零件加工精度稳定在0.002毫米以内 / 28 years of precision grinding",
        "XA-IIT",
        d(9, 22),
        ceremony="craftsman-ceremony",
        conferred_on=d(9, 26),
        publicity=(
            MediaSpec("西安日报", "西安质量工匠王建军：二十八年磨一剑", d(9, 27)),
            MediaSpec("中国质量新闻网", "西安表彰首批“西安质量工匠”", d(9, 28)),
        ),
    ),
    NominationSpec(
        "li-xiulan",
        "李秀兰",
        "陕西秦织服饰有限公司",
        "纺织挡车工，连续十年产品一等品率100%，首创“巡回检查法”在全厂推广 / A decade of first-grade output",
        "XA-QTS",
        d(9, 22),
        ceremony="craftsman-ceremony",
        conferred_on=d(9, 26),
        publicity=(MediaSpec("西安电视台", "工匠风采：李秀兰的“零缺陷”十年", d(9, 29)),),
    ),
    NominationSpec(
        "zhao-yonggang",
        "赵永刚",
        "西安城建安装工程有限公司",
        "钢筋工程班组长，所带班组承建工程获“长安杯”质量奖3项 / His crew's works won 3 Chang'an Cup awards",
        "XA-CON",
        d(9, 22),
        ceremony="craftsman-ceremony",
        conferred_on=d(9, 26),
        publicity=(MediaSpec("华商报", "把每一根钢筋都当作作品——记西安质量工匠赵永刚", d(10, 9)),),
    ),
    NominationSpec(
        "chen-lixin",
        "陈立新",
        "西安关中农机装备有限公司",
        "农机总装线质检员，建立关键工序质量追溯卡，整机返修率下降40% / Cut tractor rework by 40%",
        "XA-AGF",
        d(9, 22),
        ceremony="craftsman-ceremony",
        conferred_on=d(9, 26),
        publicity=(MediaSpec("三秦都市报", "田间地头的质量守护者陈立新", d(10, 10)),),
    ),
    NominationSpec(
        "liu-haiyan",
        "刘海燕",
        "西安渭水电缆有限公司",
        "拉丝工序技术骨干，改进铜杆退火工艺 / Improved copper-rod annealing",
        "XA-IIT",
        d(9, 22),
        rejection="所在企业本月电线电缆产品监督抽查不合格，按评选办法实行质量一票否决 / Employer failed this month's spot check: quality veto",
    ),
)

CONCLUSION = ConclusionSpec(
    d(10, 31),
    "质量月活动圆满完成：12个市级部门开展活动38项，监督抽查22批次，表彰西安质量工匠4名 / Quality Month done",
    "建筑工程质量抽测、秋季农资打假、网络市场监管等常态化工作延续至年底，质量大讲堂延期至10月 / "
    "Year-round work continues; the lecture hall moved to October",
)

XIAN_2017 = Scenario(
    key="xian2017",
    campaign=CAMPAIGN,
    departments=DEPARTMENTS,
    activities=ACTIVITIES,
    inspections=INSPECTIONS,
    bulletins=BULLETINS,
    nominations=NOMINATIONS,
    conclusion=CONCLUSION,
)
"""The reference case as the news report and DOMAIN.md describe it."""


# Recording it -----------------------------------------------------------------------


class _Recorder:
    """Executes the scenario's commands, each under a key derived from the data."""

    def __init__(self, ledger: Ledger, scenario: Scenario) -> None:
        self.ledger = ledger
        self.scenario = scenario
        self.organiser = clerk(scenario.campaign.organiser)

    def run(self, step: str, actor: Actor, command: c.Command) -> Receipt:
        keyed = type(command)(**{**dict(command), "idempotency_key": f"{self.scenario.key}/{step}"})
        return self.ledger.execute(keyed, actor)

    def campaign(self) -> UUID:
        spec = self.scenario.campaign
        return self.run(
            "campaign/plan",
            self.organiser,
            c.PlanCampaign(
                title=spec.title,
                theme=spec.theme,
                purpose=spec.purpose,
                organiser=spec.organiser,
                partners=spec.partners,
                starts_on=spec.starts_on,
                ends_on=spec.ends_on,
                focus_areas=spec.focus_areas,
            ),
        ).aggregate_id

    def enlist(self, campaign_id: UUID) -> None:
        for dept in self.scenario.departments:
            command = c.EnlistDepartment(
                campaign_id=campaign_id, code=dept.code, name_zh=dept.name_zh, name_en=dept.name_en
            )
            self.run(f"department/{dept.code}/enlist", self.organiser, command)

    def plan_activity(self, campaign_id: UUID, a: ActivitySpec) -> UUID:
        command = c.PlanActivity(
            campaign_id=campaign_id,
            title=a.title,
            lead_department=a.lead,
            focus_area=a.focus_area,
            activity_kind=a.kind,
            partners=a.partners,
            targets=dict(a.targets),
        )
        planner = self.organiser if a.planned_by_organiser else clerk(a.lead)
        activity_id = self.run(f"activity/{a.key}/plan", planner, command).aggregate_id
        s = a.schedule
        schedule = c.ScheduleActivity(activity_id=activity_id, starts_on=s.starts_on, ends_on=s.ends_on, place=s.place)
        self.run(f"activity/{a.key}/schedule", clerk(a.lead), schedule)
        return activity_id

    def run_activity(self, activity_id: UUID, a: ActivitySpec) -> None:
        lead = clerk(a.lead)
        step = f"activity/{a.key}"
        if a.started_on is not None:
            self.run(f"{step}/start", lead, c.StartActivity(activity_id=activity_id, started_on=a.started_on))
        for n, report in enumerate(a.progress, 1):
            for metric, amount in report.amounts.items():
                command = c.ReportProgress(
                    activity_id=activity_id, metric=metric, amount=amount, reported_on=report.reported_on
                )
                self.run(f"{step}/progress/{n}/{metric}", lead, command)
        ending = a.ending
        if isinstance(ending, Completed):
            command_ = c.CompleteActivity(activity_id=activity_id, completed_on=ending.on, outcome=ending.outcome)
            self.run(f"{step}/complete", lead, command_)
        elif isinstance(ending, Postponed):
            self.run(f"{step}/postpone", lead, c.PostponeActivity(activity_id=activity_id, reason=ending.reason))
        elif isinstance(ending, Cancelled):
            self.run(f"{step}/cancel", lead, c.CancelActivity(activity_id=activity_id, reason=ending.reason))

    def inspection(self, campaign_id: UUID, activity_ids: Mapping[str, UUID], i: InspectionSpec) -> UUID:
        actor = clerk(i.department)
        step = f"inspection/{i.reference}"
        plan = c.PlanInspection(
            campaign_id=campaign_id,
            activity_id=activity_ids[i.activity] if i.activity is not None else None,
            reference=i.reference,
            inspecting_department=i.department,
            inspection_kind=i.kind,
            subject_name=i.subject,
            subject_kind=i.subject_kind,
            product_category=i.product_category,
            planned_on=i.planned_on,
        )
        iid = self.run(f"{step}/plan", actor, plan).aggregate_id
        for s in i.samples:
            take = c.TakeSample(
                inspection_id=iid, sample_id=s.sample_id, product=s.product, batch=s.batch, taken_on=s.taken_on
            )
            self.run(f"{step}/sample/{s.sample_id}/take", actor, take)
        for s in i.samples:
            if s.tested_on is not None:
                result = c.RecordSampleResult(
                    inspection_id=iid,
                    sample_id=s.sample_id,
                    passed=not s.failed_items,
                    nonconforming_items=s.failed_items,
                    tested_on=s.tested_on,
                )
                self.run(f"{step}/sample/{s.sample_id}/result", actor, result)
        if i.notified_on is not None:
            self.run(f"{step}/verdict", actor, c.IssueVerdict(inspection_id=iid, notified_on=i.notified_on))
        for s in i.samples:
            if (o := s.objection) is None:
                continue
            objection = c.ObjectToResult(inspection_id=iid, sample_id=s.sample_id, lodged_on=o.lodged_on)
            self.run(f"{step}/sample/{s.sample_id}/object", actor, objection)
            if o.tested_on is not None:
                retest = c.RecordRetestResult(
                    inspection_id=iid,
                    sample_id=s.sample_id,
                    passed=not o.failed_items,
                    nonconforming_items=o.failed_items,
                    tested_on=o.tested_on,
                )
                self.run(f"{step}/sample/{s.sample_id}/retest", actor, retest)
        if (r := i.rectification) is not None:
            order = c.OrderRectification(
                inspection_id=iid, ordered_on=r.ordered_on, due_on=r.due_on, requirements=r.requirements
            )
            self.run(f"{step}/rectification/order", actor, order)
            if (f := r.follow_up) is not None:
                verify = c.VerifyRectification(
                    inspection_id=iid, verified_on=f.verified_on, passed=f.passed, notes=f.notes
                )
                self.run(f"{step}/rectification/verify", actor, verify)
        if (p := i.penalty) is not None:
            penalty = c.ImposePenalty(inspection_id=iid, amount=p.amount, reason=p.reason, decided_on=p.decided_on)
            self.run(f"{step}/penalty", actor, penalty)
        if (t := i.transfer) is not None:
            transfer = c.TransferCase(inspection_id=iid, authority=t.authority, transferred_on=t.transferred_on)
            self.run(f"{step}/transfer", actor, transfer)
        if i.closed_on is not None:
            self.run(f"{step}/close", actor, c.CloseInspection(inspection_id=iid, closed_on=i.closed_on))
        return iid

    def bulletin(self, campaign_id: UUID, inspection_ids: Mapping[str, UUID], b: BulletinSpec) -> None:
        command = c.PublishBulletin(
            campaign_id=campaign_id,
            title=b.title,
            published_on=b.published_on,
            inspection_ids=tuple(inspection_ids[ref] for ref in b.inspections),
        )
        self.run(f"bulletin/{b.key}/publish", clerk(b.published_by), command)

    def nomination(self, campaign_id: UUID, activity_ids: Mapping[str, UUID], n: NominationSpec) -> None:
        step = f"commendation/{n.key}"
        nominee = c.NominateCraftsman(
            campaign_id=campaign_id,
            person=n.person,
            employer=n.employer,
            deeds=n.deeds,
            nominating_department=n.nominated_by,
        )
        cid = self.run(f"{step}/nominate", clerk(n.nominated_by), nominee).aggregate_id
        review = c.ReviewNomination(
            commendation_id=cid, approved=n.rejection is None, reason=n.rejection, reviewed_on=n.reviewed_on
        )
        self.run(f"{step}/review", self.organiser, review)
        if n.ceremony is not None and n.conferred_on is not None:
            confer = c.ConferCommendation(
                commendation_id=cid, ceremony_id=activity_ids[n.ceremony], conferred_on=n.conferred_on
            )
            self.run(f"{step}/confer", self.organiser, confer)
        for m, item in enumerate(n.publicity, 1):
            publicise = c.PubliciseCommendation(
                commendation_id=cid, outlet=item.outlet, title=item.title, published_on=item.published_on
            )
            self.run(f"{step}/publicity/{m}", clerk(n.nominated_by), publicise)


def load(ledger: Ledger, scenario: Scenario = XIAN_2017) -> UUID:
    """Record ``scenario`` in ``ledger`` through commands; return the campaign's id.

    The plan (campaign, departments, activities with their dates and places) is
    recorded before the launch, as the press conference announced it; then the
    activities run, inspections follow their lifecycle, craftsmen are nominated
    and conferred, and bulletins are published. The campaign is left running:
    see :func:`conclude`. Loading the same scenario again records nothing.
    """
    recorder = _Recorder(ledger, scenario)
    campaign_id = recorder.campaign()
    recorder.enlist(campaign_id)
    activity_ids = {a.key: recorder.plan_activity(campaign_id, a) for a in scenario.activities}
    launch = c.LaunchCampaign(campaign_id=campaign_id, launched_on=scenario.campaign.launched_on)
    recorder.run("campaign/launch", recorder.organiser, launch)
    for a in scenario.activities:
        recorder.run_activity(activity_ids[a.key], a)
    inspection_ids = {i.reference: recorder.inspection(campaign_id, activity_ids, i) for i in scenario.inspections}
    for n in scenario.nominations:
        recorder.nomination(campaign_id, activity_ids, n)
    for b in scenario.bulletins:
        recorder.bulletin(campaign_id, inspection_ids, b)
    return campaign_id


def conclude(ledger: Ledger, campaign_id: UUID, scenario: Scenario = XIAN_2017) -> Receipt:
    """Conclude the loaded campaign (kept apart from :func:`load` so demos show it running).

    Some activities are still under way, so the conclusion carries the
    scenario's override reason.
    """
    spec = scenario.conclusion
    command = c.ConcludeCampaign(
        campaign_id=campaign_id,
        concluded_on=spec.concluded_on,
        summary=spec.summary,
        override_reason=spec.override_reason,
    )
    recorder = _Recorder(ledger, scenario)
    return recorder.run("campaign/conclude", recorder.organiser, command)


# What the ledger should say, worked out from the data alone -----------------------------


@dataclass(frozen=True)
class Expected:
    """Figures a correctly recorded scenario shows; keys are the ledger's state names."""

    departments: int
    activities: int
    activities_by_state: dict[str, int]
    activities_by_focus_area: dict[str, int]
    activities_by_department: dict[str, int]
    inspections: int
    inspections_by_verdict: dict[str, int]
    """``conforming``, ``nonconforming``, or ``pending`` (no verdict yet)."""
    inspections_by_state: dict[str, int]
    samples: int
    samples_tested: int
    samples_failed: int
    """Tested samples whose current result (after any re-test) is a failure."""
    samples_failed_originally: int
    objections: int
    overturned_on_retest: int
    rectifications: int
    failed_follow_ups: int
    penalties: int
    transfers: int
    targets: dict[str, dict[str, int]]
    """Activity title -> metric -> target."""
    achieved: dict[str, dict[str, int]]
    """Activity title -> metric -> total reported."""
    commendations_by_state: dict[str, int]
    media_items: int
    bulletins: dict[str, int]
    """Bulletin title -> number of inspections it lists."""


def _count(values: list[str]) -> dict[str, int]:
    return dict(Counter(values))


def expected(scenario: Scenario = XIAN_2017) -> Expected:
    """What loading ``scenario`` into a fresh ledger should record."""
    samples = [s for i in scenario.inspections for s in i.samples]
    objected = [s for s in samples if s.objection is not None]
    rectifications = [i.rectification for i in scenario.inspections if i.rectification is not None]
    return Expected(
        departments=len(scenario.departments),
        activities=len(scenario.activities),
        activities_by_state=_count([a.state.value for a in scenario.activities]),
        activities_by_focus_area=_count([a.focus_area.value for a in scenario.activities]),
        activities_by_department=_count([a.lead for a in scenario.activities]),
        inspections=len(scenario.inspections),
        inspections_by_verdict=_count([i.verdict.value if i.verdict else "pending" for i in scenario.inspections]),
        inspections_by_state=_count([i.state.value for i in scenario.inspections]),
        samples=len(samples),
        samples_tested=sum(s.tested for s in samples),
        samples_failed=sum(s.failed for s in samples),
        samples_failed_originally=sum(s.failed_originally for s in samples),
        objections=len(objected),
        overturned_on_retest=sum(s.retested and not s.failed for s in objected),
        rectifications=len(rectifications),
        failed_follow_ups=sum(r.follow_up is not None and not r.follow_up.passed for r in rectifications),
        penalties=sum(i.penalty is not None for i in scenario.inspections),
        transfers=sum(i.transfer is not None for i in scenario.inspections),
        targets={a.title: dict(a.targets) for a in scenario.activities if a.targets},
        achieved={a.title: a.achieved() for a in scenario.activities if a.targets},
        commendations_by_state=_count([n.state.value for n in scenario.nominations]),
        media_items=sum(len(n.publicity) for n in scenario.nominations),
        bulletins={b.title: len(b.inspections) for b in scenario.bulletins},
    )
