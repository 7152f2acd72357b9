"""Word pools for synthetic Chinese subject names.

Enterprise names follow the registration rules (行政区划 + 字号 + 行业 + 组织形式), so the pools are
split the same way. The 字号 pool combines two character pools (about 9,000 two-character and far more
three-character trade names) with the common real-world ones (恒达, 鑫源 ...), because a name resolver
tested on a small pool would never meet the collisions a real city has. Nothing here names a city:
places come from the region data file.
"""

from __future__ import annotations

from dataclasses import dataclass


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# 字号 that really are everywhere: they make the archive as ambiguous as a real one.
COMMON_TRADE_NAMES = _split(
    """
    恒达 鑫源 华泰 宏远 金盛 永盛 鑫盛 恒通 天成 华兴 瑞丰 兴盛 盛世 宏达 鼎盛 恒泰 通达 顺达 金鑫 鸿运
    昌盛 宏图 锦程 汇通 华信 中信 金源 长兴 隆盛 万达 嘉禾 佳和 兴旺 兴隆 富源 丰源 新源 安泰 康泰 瑞祥
    吉祥 福瑞 金泰 银泰 泰和 和信 诚信 信达 博远 博通 正大 正泰 德润 德隆 国泰 华安 华庭 天宇 天润 天和
    金桥 金鼎 金利 利民 惠民 民生 秦巴 汉江 巴山 瀛湖 凤凰 香溪 龙腾 腾飞 飞达 祥瑞 鑫达 鑫旺 鑫泰 鑫隆
    宏盛 宏泰 宏发 永兴 永安 永达 永泰 长盛 长青 青山 绿源 绿洲 绿野 山水 四季 丰泽 润泽 泽源 源丰 丰华
    """
)

TRADE_FIRST = _split(
    """
    恒 鑫 华 宏 金 永 天 瑞 兴 盛 鼎 通 顺 鸿 昌 锦 汇 长 隆 万 嘉 佳 富 丰 新 安 康 吉 福 泰 和 信 博 正 德
    国 利 惠 民 秦 汉 巴 凤 龙 腾 飞 祥 润 泽 源 绿 青 山 四 中 东 西 南 北 大 明 光 辉 星 晨 阳 星 远 宇 海
    江 河 湖 林 森 桂 兰 梅 竹 松 柏 翔 凯 旭 昊 卓 越 诚 达 聚 合 众 协 同 启 开 宝 玉 银 乐 美 优 英 智 俊
    """
)

TRADE_SECOND = _split(
    """
    达 源 泰 远 盛 通 成 兴 丰 祥 瑞 鑫 和 信 隆 昌 发 安 康 利 华 辉 宇 润 泽 晟 铭 昊 峰 帆 航 创 联 诚 德
    荣 茂 旺 顺 升 腾 翔 悦 宁 禾 佳 源 益 捷 美 达 嘉 凯 宏 博 晖 耀 烨 阳 晨 煜 锦 麟 鹏 森 林 川 江 海 山
    星 月 云 天 景 峻 轩 雅 尚 品 优 恒 远 拓 展 程 途 业 邦 豪 威 胜 固 坤 乾 元 亨 贞 泓 淼 鼎 汇 聚 通 越
    """
)

TRADE_THIRD = _split("源 达 盛 丰 泰 通 兴 隆 祥 鑫 华 成 发 昌 和 利 安 康 宇 辉 业 邦")


@dataclass(frozen=True)
class Industry:
    """A 行业 word of an enterprise name; `sector` picks permits and violations that fit it."""

    word: str
    sector: str
    weight: float = 1.0


INDUSTRIES: tuple[Industry, ...] = tuple(
    Industry(word, sector, weight)
    for sector, weight, words in (
        ("building_materials", 2.0, "建材 水泥制品 混凝土 石材 钢结构 新材料 木业"),
        ("trade", 3.0, "商贸 贸易 实业 五金机电 电器 农产品 粮油 超市 服饰"),
        ("construction", 2.5, "建筑工程 装饰工程 园林绿化工程 市政工程 水电安装工程 电力工程 通信工程 消防工程 安防工程"),
        ("food", 2.0, "茶业 富硒食品 食品 餐饮管理 酒业 饮品 魔芋 富硒茶"),
        ("agriculture", 2.0, "农业科技 生态农业 养殖 生猪养殖 畜牧 中药材 蚕桑 林业 种植"),
        ("transport", 1.5, "物流 运输 汽车运输 汽车销售服务 客运"),
        ("medical", 1.0, "医药 大药房 医疗器械 健康管理"),
        ("mining", 1.0, "矿业 砂石 新能源 能源 燃气"),
        ("tech", 1.5, "电子科技 信息技术 网络科技 生物科技 环保科技 检测"),
        ("services", 2.0, "劳务 劳务派遣 物业管理 商务咨询 企业管理咨询 文化传媒 广告 印务 包装 教育咨询"),
        ("tourism", 1.0, "旅游开发 酒店管理 文化旅游"),
        ("realty", 1.0, "房地产开发 置业 投资"),
    )
    for word in words.split()
)

# 组织形式 of companies and what kind of subject each makes.
CORPORATE_FORMS: tuple[tuple[str, str, float], ...] = (
    ("有限公司", "法人", 55.0),
    ("有限责任公司", "法人", 25.0),
    ("股份有限公司", "法人", 3.0),
    ("集团有限公司", "法人", 1.0),
)

# Individual businesses: the trade a shop name ends with, and its sector.
SHOP_TRADES: tuple[tuple[str, str], ...] = tuple(
    (word, sector)
    for sector, words in (
        ("food", "面馆 蒸面馆 小吃店 餐馆 饭店 火锅店 烧烤店 农家乐 饺子馆 粮油店 副食店 蔬菜店 茶叶店 酒坊 豆腐坊 烟酒店"),
        ("trade", "五金店 便利店 超市 日杂店 服装店 鞋店 手机店 家电经营部 建材经营部 文具店 眼镜店 花店"),
        ("services", "理发店 美容美发店 干洗店 汽车修理部 打印部 家电维修部 摩托车修理部 照相馆 洗车行"),
        ("medical", "诊所 药店"),
        ("agriculture", "养殖场 种植园 家庭农场"),
    )
    for word in words.split()
)

COOP_PRODUCTS = _split(
    "茶叶 富硒茶 魔芋 生猪养殖 土鸡养殖 中药材 核桃 板栗 蔬菜 食用菌 香菇 木耳 蚕桑 猕猴桃 拐枣 烤烟 柑橘 山羊养殖 蜜蜂养殖 水产养殖 黄姜 杜仲"
)
COOP_FORMS = _split("专业合作社 农民专业合作社 种植专业合作社 养殖专业合作社")

VILLAGES = _split(
    """
    东河 西河 南沟 北坡 新民 新华 新建 红光 红星 双河 三河 团结 胜利 和平 长安 永安 新安 兴隆 大坪 小坪
    中坝 上坝 下坝 柳树 桃园 梨园 茶园 竹园 枫树 花园 石桥 高桥 龙泉 凤凰 金星 明星 光明 联合 共和 前进
    """
)

STREETS = _split(
    """
    人民路 解放路 建设路 新华路 和平路 文化路 育才路 滨江路 滨江大道 东大街 西大街 南大街 北大街 南环路
    北环路 兴业路 工业园路 迎宾大道 府前路 中心街 健民路 幸福路 振兴路 商贸街 农贸街 创业路 花园路
    """
)

SOCIAL_GROUPS = _split("个体劳动者协会 茶产业协会 建筑业协会 餐饮行业协会 物流协会 旅游协会 会计学会 摄影家协会 书法家协会 老年体育协会 青年企业家协会 篮球协会")
SOCIAL_SERVICES = _split("幼儿园 养老院 社会工作服务中心 职业培训学校 艺术培训学校 康复中心 托育中心 老年服务中心")

# Surnames with rough frequency weights; compound ones are rare but exist (欧阳 is masked as 欧阳*).
SURNAMES: tuple[tuple[str, float], ...] = tuple(
    (name, float(w))
    for w, names in (
        (30, "王 李 张 刘 陈"),
        (12, "杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何"),
        (6, "高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾 肖 田 董 袁 潘"),
        (3, "于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 韦 付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 莫 孔 向 汤 柯 储 鲁 饶"),
        (0.3, "欧阳 司马 诸葛 上官"),
    )
    for name in names.split()
)

GIVEN_MALE = _split(
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 帅 旭 宁 龙 林 洋 林 建国 建华 建军 国强 国华 志强 志明 志刚 海涛 海军 红军 文斌 永刚 永强 德明 德华 春生 长青 家豪 子轩 浩然 宇航 俊杰 晨阳 博文 天佑 明轩 一鸣"
)
GIVEN_FEMALE = _split(
    "芳 娟 敏 静 丽 艳 娜 玲 霞 燕 婷 雪 琳 倩 莉 慧 颖 萍 红 梅 秀英 桂英 玉兰 秀兰 春梅 海燕 丽娟 晓燕 雅婷 欣怡 梓涵 诗涵 思雨 雨欣 子涵 佳怡 婉婷 美玲 金凤 小红"
)
