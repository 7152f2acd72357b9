"""What departments decide, by function (role), for the demo records.

Keyed by a department's `role` from the region file (market, tax, court ...), never by a city's
department names, so any region file with the usual roles gets plausible records. Laws cited are the
national ones departments actually quote; the facts are generic templates.
"""

from __future__ import annotations

from dataclasses import dataclass

# Subject groups an entry applies to.
COMPANY = "company"  # 公司、合伙企业、分公司
SHOP = "shop"  # 个体工商户
COOP = "coop"  # 农民专业合作社
COLLECTIVE = "collective"  # 农村集体经济组织（N2）
SOCIAL = "social"  # 社会组织（5…）
OTHER = "other"  # 其他组织（Y…）
PERSON = "person"  # 自然人
BUSINESS = frozenset({COMPANY, SHOP, COOP})
ORGS = frozenset({COMPANY, SHOP, COOP, COLLECTIVE, SOCIAL, OTHER})


@dataclass(frozen=True)
class Violation:
    role: str
    kind: str  # 违法行为类型
    fact: str  # 违法事实
    basis: str  # 处罚依据
    groups: frozenset[str] = BUSINESS
    sectors: frozenset[str] | None = None  # None: any sector


def _v(role: str, kind: str, fact: str, basis: str, groups: frozenset[str] = BUSINESS, sectors: str | None = None) -> Violation:
    return Violation(role, kind, fact, basis, groups, frozenset(sectors.split()) if sectors else None)


VIOLATIONS: tuple[Violation, ...] = (
    _v("market", "食品安全违法行为", "经营超过保质期的食品", "《中华人民共和国食品安全法》第一百二十四条", sectors="food trade"),
    _v("market", "食品安全违法行为", "未按规定查验供货者许可证和食品出厂检验合格证", "《中华人民共和国食品安全法》第一百二十六条", sectors="food trade"),
    _v("market", "虚假宣传", "对商品的性能、功能作虚假的商业宣传", "《中华人民共和国反不正当竞争法》第二十条"),
    _v("market", "价格违法行为", "未按规定明码标价", "《中华人民共和国价格法》第四十二条", sectors="trade food services medical"),
    _v("market", "产品质量违法行为", "销售不符合保障人体健康和人身、财产安全的国家标准的产品", "《中华人民共和国产品质量法》第四十九条", sectors="building_materials trade"),
    _v("market", "特种设备违法行为", "使用未经定期检验的特种设备（电梯、锅炉）", "《中华人民共和国特种设备安全法》第八十四条", sectors="building_materials mining realty tourism"),
    _v("market", "药品违法行为", "药店未凭处方销售处方药", "《药品经营和使用质量监督管理办法》第七十二条", sectors="medical"),
    _v("tax", "税收违法行为", "未按照规定期限办理纳税申报和报送纳税资料", "《中华人民共和国税收征收管理法》第六十二条", groups=BUSINESS | {SOCIAL}),
    _v("tax", "发票违法行为", "未按规定开具发票", "《中华人民共和国发票管理办法》第三十五条"),
    _v("tax", "偷税", "在账簿上多列支出、少列收入，少缴应纳税款", "《中华人民共和国税收征收管理法》第六十三条", groups=frozenset({COMPANY})),
    _v("environment", "大气污染违法行为", "超过大气污染物排放标准排放大气污染物", "《中华人民共和国大气污染防治法》第九十九条", sectors="building_materials mining construction"),
    _v("environment", "建设项目环评违法行为", "建设项目环境影响报告表未经批准擅自开工建设", "《中华人民共和国环境影响评价法》第三十一条", groups=frozenset({COMPANY})),
    _v("environment", "固体废物违法行为", "未按规定贮存危险废物", "《中华人民共和国固体废物污染环境防治法》第一百一十二条", sectors="tech medical mining transport"),
    _v("environment", "水污染违法行为", "超标排放水污染物", "《中华人民共和国水污染防治法》第八十三条", sectors="food agriculture mining"),
    _v("housing", "建筑市场违法行为", "未取得施工许可证擅自施工", "《中华人民共和国建筑法》第六十四条", groups=frozenset({COMPANY}), sectors="construction realty"),
    _v("housing", "建设工程安全生产违法行为", "施工现场安全防护措施不到位", "《建设工程安全生产管理条例》第六十二条", groups=frozenset({COMPANY}), sectors="construction"),
    _v("labour", "劳动保障违法行为", "拖欠农民工工资", "《保障农民工工资支付条例》第五十五条", groups=frozenset({COMPANY}), sectors="construction services realty"),
    _v("labour", "社会保险违法行为", "未按时足额缴纳社会保险费", "《中华人民共和国社会保险法》第八十六条", groups=frozenset({COMPANY})),
    _v("safety", "安全生产违法行为", "未按规定对从业人员进行安全生产教育和培训", "《中华人民共和国安全生产法》第九十七条", sectors="mining building_materials construction transport"),
    _v("safety", "安全生产违法行为", "未对重大危险源登记建档并进行定期检测、评估、监控", "《中华人民共和国安全生产法》第一百零一条", sectors="mining"),
    _v("transport", "道路运输违法行为", "未取得道路运输经营许可，擅自从事道路运输经营", "《中华人民共和国道路运输条例》第六十三条", groups=frozenset({COMPANY, SHOP, PERSON})),
    _v("transport", "超限运输", "车辆超限运输，损害公路路面", "《中华人民共和国公路法》第七十六条", groups=frozenset({COMPANY, PERSON}), sectors="transport building_materials mining"),
    _v("health", "医疗卫生违法行为", "未取得医疗机构执业许可证擅自执业", "《中华人民共和国基本医疗卫生与健康促进法》第九十九条", groups=frozenset({SHOP, PERSON})),
    _v("health", "公共场所卫生违法行为", "公共场所从业人员未取得有效健康合格证明", "《公共场所卫生管理条例实施细则》第三十八条", sectors="services tourism food"),
    _v("agriculture", "农业投入品违法行为", "经营未取得登记证的农药", "《农药管理条例》第五十五条", groups=frozenset({COMPANY, SHOP, COOP}), sectors="agriculture trade"),
    _v("agriculture", "动物防疫违法行为", "未按规定对饲养的动物实施强制免疫", "《中华人民共和国动物防疫法》第九十二条", groups=frozenset({COMPANY, COOP, SHOP, PERSON}), sectors="agriculture"),
    _v("land", "土地违法行为", "未经批准非法占用土地", "《中华人民共和国土地管理法》第七十七条", groups=frozenset({COMPANY, COLLECTIVE, PERSON})),
    _v("land", "矿产资源违法行为", "超越批准的矿区范围采矿", "《中华人民共和国矿产资源法》第四十条", groups=frozenset({COMPANY}), sectors="mining building_materials"),
    _v("forestry", "林业违法行为", "未取得采伐许可证滥伐林木", "《中华人民共和国森林法》第七十六条", groups=frozenset({COMPANY, COOP, PERSON})),
    _v("water", "水事违法行为", "未经批准在河道管理范围内采砂", "《中华人民共和国水法》第七十二条", groups=frozenset({COMPANY, PERSON}), sectors="mining building_materials"),
    _v("urban", "城市管理违法行为", "未经批准擅自设置户外广告", "《城市市容和环境卫生管理条例》第三十六条", groups=frozenset({COMPANY, SHOP})),
    _v("urban", "违法建设", "未取得建设工程规划许可证进行建设", "《中华人民共和国城乡规划法》第六十四条", groups=frozenset({COMPANY, PERSON})),
    _v("fire", "消防违法行为", "消防设施、器材未保持完好有效", "《中华人民共和国消防法》第六十条", groups=BUSINESS | {SOCIAL}),
    _v("fire", "消防违法行为", "占用、堵塞、封闭疏散通道、安全出口", "《中华人民共和国消防法》第六十条", groups=BUSINESS),
    _v("medical_insurance", "医疗保障基金违法行为", "定点医药机构串换药品、医用耗材进行医保结算", "《医疗保障基金使用监督管理条例》第三十八条", groups=frozenset({COMPANY, SHOP}), sectors="medical"),
    _v("statistics", "统计违法行为", "提供不真实的统计资料", "《中华人民共和国统计法》第四十一条", groups=frozenset({COMPANY})),
    _v("civil", "社会组织违法行为", "未按规定参加年度检查", "《社会团体登记管理条例》第三十条", groups=frozenset({SOCIAL})),
    _v("culture", "文化市场违法行为", "旅行社未与旅游者签订书面旅游合同", "《中华人民共和国旅游法》第九十五条", groups=frozenset({COMPANY}), sectors="tourism"),
    _v("finance", "政府采购违法行为", "提供虚假材料谋取中标", "《中华人民共和国政府采购法》第七十七条", groups=frozenset({COMPANY}), sectors="construction trade services tech"),
)

# Penalty kinds per grade, chosen so that rules.severity.infer_severity grades them the same way.
PENALTY_KINDS: dict[str, tuple[str, ...]] = {
    "轻微": ("警告", "通报批评"),
    "一般": ("罚款", "警告、罚款", "没收违法所得、罚款", "罚款、没收违法所得"),
    "严重": ("责令停产停业、罚款", "吊销许可证件、罚款", "吊销营业执照"),
}


@dataclass(frozen=True)
class Item:
    """A non-penalty decision: a licence, a qualification, an award, a listing ..."""

    category: str
    role: str
    title: str
    groups: frozenset[str] = BUSINESS
    sectors: frozenset[str] | None = None
    valid_years: int | None = None
    content: str = ""
    severity: str | None = None


def _i(
    category: str,
    role: str,
    title: str,
    groups: frozenset[str] = BUSINESS,
    sectors: str | None = None,
    valid_years: int | None = None,
    content: str = "",
    severity: str | None = None,
) -> Item:
    return Item(category, role, title, groups, frozenset(sectors.split()) if sectors else None, valid_years, content, severity)


_P = frozenset({PERSON})
_C = frozenset({COMPANY})

ITEMS: tuple[Item, ...] = (
    # 登记备案
    _i("登记备案", "market", "设立登记", BUSINESS, content="准予设立登记，核发营业执照"),
    _i("登记备案", "market", "变更登记", BUSINESS, content="准予变更登记（住所、经营范围）"),
    _i("登记备案", "market", "动产抵押登记", _C, content="办理动产抵押登记"),
    _i("登记备案", "tax", "跨区域涉税事项报告", _C, sectors="construction", content="跨区域经营涉税事项报告"),
    _i("登记备案", "civil", "社会组织成立登记", frozenset({SOCIAL}), content="准予成立登记，核发登记证书"),
    # 资质资格
    _i("资质资格", "housing", "建筑业企业资质证书（施工总承包三级）", _C, "construction", 5, "核定施工总承包三级资质"),
    _i("资质资格", "housing", "二级建造师注册证书", _P, valid_years=3, content="准予二级建造师初始注册"),
    _i("资质资格", "transport", "道路运输从业人员从业资格证", _P, valid_years=6, content="核发道路运输从业资格证"),
    _i("资质资格", "health", "医师执业证书", _P, content="准予医师执业注册"),
    _i("资质资格", "labour", "职业技能等级证书", _P, content="认定职业技能等级（高级工）"),
    _i("资质资格", "land", "测绘资质证书（乙级）", _C, "tech construction", 5, "核定测绘乙级资质"),
    _i("资质资格", "transport", "道路运输经营资质（普通货运）", _C, "transport", 4, "核定普通货物运输经营资质"),
    # 行政许可
    _i("行政许可", "market", "食品经营许可证", frozenset({COMPANY, SHOP}), "food trade", 5, "准予食品经营许可（预包装食品销售、热食类食品制售）"),
    _i("行政许可", "market", "食品生产许可证", frozenset({COMPANY, COOP}), "food agriculture", 5, "准予食品生产许可（茶叶及相关制品）"),
    _i("行政许可", "market", "药品经营许可证", frozenset({COMPANY, SHOP}), "medical", 5, "准予药品零售经营许可"),
    _i("行政许可", "environment", "排污许可证", _C, "building_materials mining food construction", 5, "核发排污许可证"),
    _i("行政许可", "environment", "建设项目环境影响报告表批复", _C, "building_materials mining realty tourism", None, "同意建设项目环境影响报告表"),
    _i("行政许可", "safety", "安全生产许可证", _C, "mining construction building_materials", 3, "准予安全生产许可"),
    _i("行政许可", "safety", "危险化学品经营许可证", _C, "trade mining", 3, "准予危险化学品经营许可（不带储存）"),
    _i("行政许可", "transport", "道路运输经营许可证", frozenset({COMPANY, SHOP}), "transport", 4, "准予道路货物运输经营许可"),
    _i("行政许可", "health", "公共场所卫生许可证", frozenset({COMPANY, SHOP}), "services tourism", 4, "准予公共场所卫生许可"),
    _i("行政许可", "agriculture", "农药经营许可证", frozenset({COMPANY, SHOP, COOP}), "agriculture trade", 5, "准予农药经营许可"),
    _i("行政许可", "agriculture", "动物防疫条件合格证", frozenset({COMPANY, COOP, SHOP}), "agriculture", None, "核发动物防疫条件合格证"),
    _i("行政许可", "land", "采矿许可证", _C, "mining building_materials", 5, "准予采矿许可（建筑用砂石）"),
    _i("行政许可", "forestry", "林木采伐许可证", frozenset({COMPANY, COOP, PERSON, COLLECTIVE}), valid_years=1, content="准予采伐林木"),
    _i("行政许可", "water", "取水许可证", frozenset({COMPANY, COOP, COLLECTIVE}), valid_years=5, content="准予取水许可"),
    _i("行政许可", "culture", "旅行社业务经营许可证", _C, "tourism", None, "准予经营国内旅游业务和入境旅游业务"),
    _i("行政许可", "urban", "户外广告设施设置许可", frozenset({COMPANY, SHOP}), valid_years=2, content="准予设置户外广告设施"),
    _i("行政许可", "fire", "公众聚集场所投入使用、营业前消防安全检查", frozenset({COMPANY, SHOP}), "tourism services food trade", None, "准予投入使用、营业"),
    _i("行政许可", "credit", "企业投资项目核准", _C, "mining realty tourism", None, "同意项目核准"),
    _i("行政许可", "labour", "劳务派遣经营许可证", _C, "services", 3, "准予劳务派遣经营许可"),
    # 行政强制
    _i("行政强制", "market", "查封、扣押", frozenset({COMPANY, SHOP}), "food trade", content="对涉嫌不符合食品安全标准的食品实施扣押"),
    _i("行政强制", "environment", "查封、扣押", _C, "building_materials mining", content="对违法排放污染物的设施、设备实施查封"),
    _i("行政强制", "safety", "查封、扣押", _C, "mining", content="对存在重大事故隐患的生产经营场所实施查封"),
    _i("行政强制", "tax", "税收强制执行", _C, content="从存款中扣缴欠缴税款"),
    # 行政确认
    _i("行政确认", "tax", "纳税信用A级纳税人", _C, content="评定为纳税信用A级"),
    _i("行政确认", "agriculture", "家庭农场名录认定", frozenset({SHOP, COOP}), "agriculture", None, "认定为县级示范家庭农场"),
    _i("行政确认", "credit", "信用承诺履约确认", _C, content="信用承诺履约情况良好"),
    # 行政奖励
    _i("行政奖励", "market", "守合同重信用企业", _C, content="公示为“守合同重信用”企业"),
    _i("行政奖励", "credit", "诚信示范企业", _C, content="评为诚信建设示范企业"),
    _i("行政奖励", "agriculture", "市级农民专业合作社示范社", frozenset({COOP}), content="认定为市级示范社"),
    _i("行政奖励", "culture", "文明旅游示范单位", _C, "tourism", None, "评为文明旅游示范单位"),
    # 行政给付
    _i("行政给付", "labour", "失业保险稳岗返还", _C, content="发放失业保险稳岗返还资金"),
    _i("行政给付", "labour", "一次性吸纳就业补贴", frozenset({COMPANY, SHOP}), content="发放一次性吸纳就业补贴"),
    _i("行政给付", "agriculture", "农机购置补贴", frozenset({COOP, PERSON, COLLECTIVE}), content="发放农机购置与应用补贴"),
    _i("行政给付", "agriculture", "耕地地力保护补贴", _P, content="发放耕地地力保护补贴"),
    _i("行政给付", "civil", "高龄老人生活补贴", _P, content="发放高龄老人生活补贴"),
    # 检查抽查
    _i("检查抽查", "market", "“双随机、一公开”抽查（企业公示信息）", frozenset({COMPANY, SHOP, COOP}), content="未发现问题"),
    _i("检查抽查", "market", "“双随机、一公开”抽查（企业公示信息）", frozenset({COMPANY, COOP}), content="发现问题已责令改正"),
    _i("检查抽查", "environment", "“双随机、一公开”抽查（排污单位）", _C, "building_materials mining food", content="未发现问题"),
    _i("检查抽查", "housing", "建筑施工安全检查", _C, "construction", content="发现问题已责令整改"),
    _i("检查抽查", "safety", "安全生产执法检查", _C, "mining construction building_materials transport", content="未发现问题"),
    _i("检查抽查", "fire", "消防监督检查", frozenset({COMPANY, SHOP}), content="发现问题已责令改正"),
    _i("检查抽查", "medical_insurance", "定点医药机构检查", frozenset({COMPANY, SHOP}), "medical", None, "未发现问题"),
    # 经营异常名录
    _i("经营异常名录", "market", "未按规定报送年度报告", frozenset({COMPANY, COOP}), content="未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告"),
    _i("经营异常名录", "market", "通过登记的住所或者经营场所无法联系", frozenset({COMPANY, SHOP, COOP}), content="通过登记的住所或者经营场所无法联系"),
    _i("经营异常名录", "market", "公示信息隐瞒真实情况、弄虚作假", _C, content="公示企业信息隐瞒真实情况、弄虚作假"),
    # 严重失信主体名单
    _i("严重失信主体名单", "market", "严重违法失信名单", _C, content="列入经营异常名录届满3年仍未履行相关义务", severity="严重"),
    _i("严重失信主体名单", "tax", "重大税收违法失信主体", _C, content="偷税数额较大，确定为重大税收违法失信主体", severity="严重"),
    _i("严重失信主体名单", "labour", "拖欠农民工工资失信联合惩戒对象名单", _C, "construction services realty", None, "拖欠农民工工资数额较大，经责令限期支付逾期未支付", "严重"),
    _i("严重失信主体名单", "safety", "安全生产严重失信主体名单", _C, "mining construction building_materials", None, "发生生产安全事故，负有责任", "严重"),
    _i("严重失信主体名单", "statistics", "统计严重失信企业", _C, content="提供不真实统计资料，情节严重", severity="严重"),
    _i("严重失信主体名单", "finance", "政府采购严重违法失信行为记录名单", _C, "construction trade services tech", None, "提供虚假材料谋取中标，禁止参加政府采购活动", "严重"),
    _i("严重失信主体名单", "court", "失信被执行人", ORGS | {PERSON}, content="有履行能力而拒不履行生效法律文书确定的义务", severity="严重"),
    # 司法判决 / 强制执行
    _i("司法判决", "court", "买卖合同纠纷", BUSINESS | {PERSON}, content="民事判决：被告于判决生效之日起十日内支付货款"),
    _i("司法判决", "court", "民间借贷纠纷", frozenset({COMPANY, SHOP, PERSON}), content="民事判决：被告于判决生效之日起十日内偿还借款本息"),
    _i("司法判决", "court", "建设工程施工合同纠纷", _C, "construction realty", None, "民事判决：被告支付工程款"),
    _i("司法判决", "court", "劳动争议", frozenset({COMPANY, SHOP}), content="民事判决：被告支付劳动报酬及经济补偿"),
    _i("强制执行", "court", "金钱给付执行", ORGS | {PERSON}, content="执行生效法律文书确定的金钱给付义务"),
)

CASE_CAUSES_FOR_ENFORCEMENT = ("买卖合同纠纷", "民间借贷纠纷", "建设工程施工合同纠纷", "劳动争议", "租赁合同纠纷")
