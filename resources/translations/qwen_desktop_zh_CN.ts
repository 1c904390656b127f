<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>Backups</name>
    <message>
        <location filename="../../desktop/core/backup/archive.py" line="+71"/>
        <source>This file is not a Qwen Desktop backup. Nothing was changed.</source>
        <translation>此文件不是 Qwen Desktop 的备份。未做任何更改。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This backup is damaged and cannot be restored. Nothing was changed.</source>
        <translation>此备份已损坏，无法恢复。未做任何更改。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This backup is incomplete (the file was cut short, perhaps while it was being copied or downloaded). Nothing was changed.</source>
        <translation>此备份不完整（文件被截断，可能是在复制或下载时中断）。未做任何更改。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This backup was made by a newer version of Qwen Desktop. Update the app, then restore it. Nothing was changed.</source>
        <translation>此备份由更新版本的 Qwen Desktop 创建。请先更新应用，再进行恢复。未做任何更改。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This file cannot be read. Nothing was changed.</source>
        <translation>无法读取此文件。未做任何更改。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/backup/service.py" line="+109"/>
        <source>The restore stopped midway. What was there before is kept in the backup of %1: restore that one to go back.</source>
        <translation>恢复中途停止。恢复前的内容保存在 %1 的备份中：恢复那个备份即可回到原来的状态。</translation>
    </message>
    <message>
        <location filename="../../desktop/gui/settings/backups.py" line="+44"/>
        <source>Daily</source>
        <translation>每日自动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Made by hand</source>
        <translation>手动备份</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Before an app update</source>
        <translation>应用更新前</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Before the history was upgraded</source>
        <translation>历史记录升级前</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Before a restore</source>
        <translation>恢复前</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
</context>
<context>
    <name>BackupsSection</name>
    <message>
        <location line="+42"/>
        <source>Backups</source>
        <translation>备份</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Your conversations and settings are backed up once a day and before every update of the app. The API key is never part of a backup.</source>
        <translation>对话和设置每天自动备份一次，每次更新应用前也会备份。备份中绝不包含 API 密钥。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Conversations</source>
        <translation>对话数</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Back up now</source>
        <translation>立即备份</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Restore…</source>
        <translation>恢复…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export everything…</source>
        <translation>导出全部…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Import…</source>
        <translation>导入…</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Change folder…</source>
        <translation>更改文件夹…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Use the default</source>
        <translation>使用默认位置</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Include the notes index (larger; it can be rebuilt from your notes)</source>
        <translation>包含笔记索引（文件更大；索引可根据笔记重新建立）</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Backups are kept in %1</source>
        <translation>备份保存在 %1</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>No backups yet.</source>
        <translation>还没有备份。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Today&apos;s backup could not be written: %1</source>
        <translation>无法写入今天的备份：%1</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Backing up…</source>
        <translation>正在备份…</translation>
    </message>
    <message>
        <location line="+6"/>
        <location line="+4"/>
        <source>The backup could not be written: %1</source>
        <translation>无法写入备份：%1</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Backed up %1 conversations (%2) to %3</source>
        <translation>已将 %1 个对话（%2）备份到 %3</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The notes index was left out; it can be rebuilt from your notes.</source>
        <translation>未包含笔记索引；可根据笔记重新建立。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Export everything</source>
        <translation>导出全部</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Qwen Desktop backup (*.zip)</source>
        <translation>Qwen Desktop 备份 (*.zip)</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Keep backups in</source>
        <translation>备份保存位置</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>The choice could not be saved: %1</source>
        <translation>无法保存此选择：%1</translation>
    </message>
    <message>
        <location line="+18"/>
        <location line="+101"/>
        <source>Import a backup</source>
        <translation>导入备份</translation>
    </message>
    <message>
        <location line="-100"/>
        <source>Qwen Desktop backup (*.zip);;All files (*)</source>
        <translation>Qwen Desktop 备份 (*.zip);;所有文件 (*)</translation>
    </message>
    <message>
        <location line="+17"/>
        <location line="+29"/>
        <source>Restore a backup</source>
        <translation>恢复备份</translation>
    </message>
    <message>
        <location line="-28"/>
        <source>Restore the backup of %1?</source>
        <translation>要恢复 %1 的备份吗？</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Restore</source>
        <translation>恢复</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>It holds %1 conversations (%2 messages), made by Qwen Desktop %3.</source>
        <translation>其中包含 %1 个对话（%2 条消息），由 Qwen Desktop %3 创建。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>It replaces your %1 conversations and your settings.</source>
        <translation>它将替换您现有的 %1 个对话和您的设置。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>It also replaces the index of your notes.</source>
        <translation>它还会替换您的笔记索引。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The current state is backed up first, so you can go back to it. Your API key stays as it is.</source>
        <translation>恢复前会先备份当前状态，您随时可以回到现在的样子。您的 API 密钥保持不变。</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>A reply is still arriving. Stop it or let it finish, then restore.</source>
        <translation>仍有回复正在生成。请先停止或等待其完成，然后再恢复。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Restoring…</source>
        <translation>正在恢复…</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>The backup could not be restored: %1. Nothing was changed.</source>
        <translation>无法恢复备份：%1。未做任何更改。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Restored %1 conversations.</source>
        <translation>已恢复 %1 个对话。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>What was there before is in the backup of %1.</source>
        <translation>恢复前的内容保存在 %1 的备份中。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Your conversations and settings are here. Backups never hold the API key: paste your key in the API key field above and press Save.</source>
        <translation>您的对话和设置已导入。备份中从不包含 API 密钥：请在上方的 API 密钥栏中粘贴您的密钥，然后点击“保存”。</translation>
    </message>
</context>
<context>
    <name>ChatTab</name>
    <message>
        <location filename="../../desktop/gui/chat/tab.py" line="+97"/>
        <source>Ask Qwen anything. Press Enter to send, Shift+Enter for a new line.</source>
        <translation>有问题尽管问通义千问。按 Enter 发送，Shift+Enter 换行。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Message Qwen…</source>
        <translation>给通义千问发消息…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Deep thinking</source>
        <translation>深度思考</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Web search</source>
        <translation>联网搜索</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Use my notes</source>
        <translation>使用我的笔记</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the reply (Esc)</source>
        <translation>停止回复（Esc）</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>This model always thinks before answering.</source>
        <translation>该模型总是先思考再回答。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>This model does not support deep thinking.</source>
        <translation>该模型不支持深度思考。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Let the model reason step by step before it answers (slower, uses more tokens).</source>
        <translation>让模型先逐步推理再回答（速度较慢，消耗更多 Token）。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Answer from your notes and list the sources (cited as [1], [2]…)</source>
        <translation>根据你的笔记回答并列出来源（以 [1]、[2]… 标注引用）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add a folder of notes in the Search tab first.</source>
        <translation>请先在“搜索”页添加笔记文件夹。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Let Qwen search the web and list the pages it used (each search is billed)</source>
        <translation>让通义千问联网搜索，并列出它参考的网页（每次搜索单独计费）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 cannot search the web. Choose another model to search.</source>
        <translation>%1 无法联网搜索。如需搜索，请换一个模型。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>New conversation</source>
        <translation>新对话</translation>
    </message>
    <message>
        <location line="+168"/>
        <source>What do my notes say about %1?</source>
        <translation>我的笔记里关于 %1 是怎么说的？</translation>
    </message>
    <message>
        <location filename="../../desktop/gui/chat/exporting.py" line="+41"/>
        <source>Word document (*.docx)</source>
        <translation>Word 文档 (*.docx)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+23"/>
        <source>Export conversation</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Could not write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The conversation was saved to %1</source>
        <translation>对话已保存到 %1</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <location filename="../../desktop/gui/chat/tab.py" line="+39"/>
        <source>Conversation: %1 · %2 tokens</source>
        <translation>本对话：%1 · %2 Token</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This month: %1 · %2 tokens</source>
        <translation>本月：%1 · %2 Token</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>1 web search</source>
        <translation>1 次联网搜索</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%n web searches</source>
        <translation>
            <numerusform>%n 次联网搜索</numerusform>
        </translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Waiting for Qwen…</source>
        <translation>正在等待通义千问…</translation>
    </message>
    <message>
        <location filename="../../desktop/gui/chat/notes_attachment.py" line="+26"/>
        <source>Detach: answer without your notes</source>
        <translation>移除：不根据你的笔记回答</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Detach the search results</source>
        <translation>移除搜索结果</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Answering from your notes: %1 (1 result)</source>
        <translation>根据你的笔记回答：%1（1 条结果）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Answering from your notes: %1 (%2 results)</source>
        <translation>根据你的笔记回答：%1（%2 条结果）</translation>
    </message>
</context>
<context>
    <name>ConversationBar</name>
    <message>
        <location filename="../../desktop/gui/chat/sidebar.py" line="+42"/>
        <source>Export as Markdown…</source>
        <translation>导出为 Markdown…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export as Word document…</source>
        <translation>导出为 Word 文档…</translation>
    </message>
    <message>
        <location line="+183"/>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rename this conversation (F2 in the list)</source>
        <translation>重命名此对话（在列表中按 F2）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save this conversation as Markdown or as a Word document</source>
        <translation>将此对话保存为 Markdown 或 Word 文档</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete this conversation (Delete in the list)</source>
        <translation>删除此对话（在列表中按 Delete）</translation>
    </message>
</context>
<context>
    <name>ConversationSidebar</name>
    <message>
        <location line="-170"/>
        <source>New chat</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>开始新对话（Ctrl+N）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Search conversations…</source>
        <translation>搜索对话…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Search titles and messages (Ctrl+F)</source>
        <translation>搜索标题和消息（Ctrl+F）</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Estimated from the token counts and the price table (prices.json in the data folder)</source>
        <translation>根据 Token 数和价格表（数据文件夹中的 prices.json）估算</translation>
    </message>
    <message>
        <location line="+44"/>
        <location line="+76"/>
        <source>New conversation</source>
        <translation>新对话</translation>
    </message>
    <message>
        <location line="-25"/>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export as Markdown…</source>
        <translation>导出为 Markdown…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export as Word document…</source>
        <translation>导出为 Word 文档…</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+22"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location line="-2"/>
        <source>Delete conversation</source>
        <translation>删除对话</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete the conversation “%1”? This cannot be undone.</source>
        <translation>删除对话“%1”？此操作无法撤销。</translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <location filename="../../desktop/gui/common/crash_dialog.py" line="+17"/>
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Qwen Desktop hit an unexpected problem. Your conversations are saved. If it happens again, send the details to support.

Log folder: %1</source>
        <translation>Qwen Desktop 遇到了意外问题。您的对话已保存。如果问题再次出现，请将详细信息发送给技术支持。

日志文件夹：%1</translation>
    </message>
    <message>
        <location line="+6"/>
        <location filename="../../desktop/selftest/checks.py" line="+302"/>
        <source>Copy details</source>
        <translation>复制详细信息</translation>
    </message>
</context>
<context>
    <name>ErrorCard</name>
    <message>
        <location filename="../../desktop/gui/chat/parts.py" line="+168"/>
        <source>Details</source>
        <translation>详细信息</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Send without web search</source>
        <translation>不联网直接发送</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Edit question</source>
        <translation>修改问题</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Change the question and send it again</source>
        <translation>修改问题后重新发送</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Open Settings</source>
        <translation>打开设置</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <location filename="../../desktop/core/errors.py" line="+58"/>
        <source>No API key is set. Add your DashScope API key in Settings.</source>
        <translation>尚未设置 API 密钥。请在“设置”中添加您的 DashScope API 密钥。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The API key was not accepted. Check that it is copied completely and that the region in Settings matches the region where the key was created.</source>
        <translation>API 密钥未通过验证。请检查密钥是否复制完整，并确认“设置”中的地域与创建该密钥时所选的地域一致。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Your Alibaba Cloud account is overdue. Top up the account in the Alibaba Cloud console, then try again.</source>
        <translation>您的阿里云账号已欠费。请在阿里云控制台充值后重试。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The service refused this message because it may contain inappropriate content. Rephrase it and try again.</source>
        <translation>此消息可能包含不当内容，已被服务拒绝。请换一种说法后重试。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Your account may not use this model. Activate it in the Model Studio console or choose another model in Settings.</source>
        <translation>您的账号无权使用此模型。请在百炼控制台开通该模型，或在“设置”中选择其他模型。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The free quota for this model is used up. Enable paid use in the Model Studio console or choose another model.</source>
        <translation>此模型的免费额度已用完。请在百炼控制台开通付费使用，或选择其他模型。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This model does not exist or is not available in this region. Choose another model in Settings (model names are case-sensitive).</source>
        <translation>此模型不存在，或在当前地域不可用。请在“设置”中选择其他模型（模型名称区分大小写）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The service is busy: too many requests in a short time. Wait a moment and try again.</source>
        <translation>服务繁忙：短时间内请求过多。请稍候再试。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Too many tokens were used in the last minute. Wait about a minute and try again.</source>
        <translation>过去一分钟内使用的 Token 过多。请等待约一分钟后重试。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The Qwen service is having problems right now. Try again in a few minutes.</source>
        <translation>通义千问服务暂时出现问题。请几分钟后重试。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Could not reach the Qwen service. Check your internet connection.</source>
        <translation>无法连接到通义千问服务。请检查网络连接。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Could not connect through the proxy. Check the proxy settings in Settings.</source>
        <translation>无法通过代理连接。请在“设置”中检查代理设置。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The Qwen service did not answer in time. Check your connection and try again.</source>
        <translation>通义千问服务响应超时。请检查网络连接后重试。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The reply was cut off before it finished. The text received so far is kept.</source>
        <translation>回复在完成前中断了。已收到的内容会保留。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The service sent an answer that cannot be read. If you set a custom URL, check that it is a DashScope address; otherwise try again in a few minutes.</source>
        <translation>服务返回的应答无法读取。如果设置了自定义 URL，请确认它是 DashScope 的地址；否则请过几分钟再试。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The service address sent the request on to another address. Qwen Desktop does not follow it, so your API key is not sent there. If you set a custom URL, check it in Settings.</source>
        <translation>服务地址把请求转到了另一个地址。Qwen Desktop 不会跟随转向，因此您的 API 密钥不会被发送到那里。如果设置了自定义 URL，请在“设置”中检查。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The service address is not a valid URL. Check the custom URL in Settings: it starts with https:// and names a host.</source>
        <translation>服务地址不是有效的 URL。请在“设置”中检查自定义 URL：它以 https:// 开头，并包含主机名。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The conversation is too long for this model. Start a new conversation or choose a model with a larger context.</source>
        <translation>对话内容超出了此模型的长度上限。请开始新对话，或选择支持更长上下文的模型。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Too many texts were sent in one request.</source>
        <translation>单次请求发送的文本过多。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The service rejected the request. See the details below.</source>
        <translation>服务拒绝了此请求。请查看下方的详细信息。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The address was not found. If you set a custom URL, check it in Settings.</source>
        <translation>找不到该地址。如果设置了自定义 URL，请在“设置”中检查。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This is not a complete API key: it contains characters a key cannot have, such as spaces, line breaks or accented letters. Copy the key again from the Model Studio console.</source>
        <translation>这不是完整的 API 密钥：其中含有密钥不会包含的字符，例如空格、换行或带重音的字母。请从百炼控制台重新复制密钥。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The system keyring is not available, so the API key cannot be stored safely.</source>
        <translation>系统凭据存储不可用，无法安全保存 API 密钥。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The notes index was built with another embedding model or size. Index the notes again to search them with the model chosen in Settings.</source>
        <translation>笔记索引是用另一个向量模型或维度建立的。请重新索引笔记，才能用“设置”中选择的模型搜索。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Offline (batch) indexing is not available for this model, region or account. Index the notes live instead.</source>
        <translation>此模型、地域或账号不支持离线（批量）索引。请改为立即索引笔记。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The service could not cancel this batch job. It goes on, and its results will be imported when it ends.</source>
        <translation>服务无法取消此批量任务。任务会继续运行，结束后其结果将被导入。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This data was saved by a newer version of Qwen Desktop. Update the app to open it.</source>
        <translation>这些数据由更新版本的 Qwen Desktop 保存。请更新应用后再打开。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The index of your notes is damaged. It can be built again from your notes files, which are not touched.</source>
        <translation>笔记索引已损坏。可以根据您的笔记文件重新建立索引，笔记文件本身不会被改动。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This model cannot search the web here. Send the question without web search, or choose another model.</source>
        <translation>此模型在这里无法联网搜索。请关闭联网搜索后发送，或换一个模型。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This file cannot be restored. Nothing was changed.</source>
        <translation>此文件无法恢复。未做任何更改。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Something went wrong. See the details below.</source>
        <translation>出现错误。请查看下方的详细信息。</translation>
    </message>
</context>
<context>
    <name>Export</name>
    <message>
        <location filename="../../desktop/core/export.py" line="+33"/>
        <source>You</source>
        <translation>我</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Qwen</source>
        <translation>通义千问</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Exported from %1 on %2 · %3 messages</source>
        <translation>导出自 %1，%2 · 共 %3 条消息</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Sources</source>
        <translation>来源</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>line %1</source>
        <translation>第 %1 行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>lines %1–%2</source>
        <translation>第 %1–%2 行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(stopped)</source>
        <translation>（已停止）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(cut off)</source>
        <translation>（已中断）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>edited %1</source>
        <translation>编辑于 %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Web sources</source>
        <translation>网页来源</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(failed: %1)</source>
        <translation>（失败：%1）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>unknown error</source>
        <translation>未知错误</translation>
    </message>
</context>
<context>
    <name>FolderPanel</name>
    <message>
        <location filename="../../desktop/gui/search/folders.py" line="+63"/>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+34"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location line="-33"/>
        <source>Stop searching this folder (the files are not touched)</source>
        <translation>不再搜索此文件夹（不会改动其中的文件）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Skipped files…</source>
        <translation>已跳过的文件…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Notes folders</source>
        <translation>笔记文件夹</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Remove folder</source>
        <translation>移除文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop searching the folder “%1”? Its files are not touched, but its index is removed: adding the folder again indexes it again (by meaning, that costs tokens).</source>
        <translation>不再搜索文件夹“%1”？其中的文件不会被改动，但它的索引会被删除：再次添加该文件夹时需要重新索引（按语义索引会消耗 Token）。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Choose a folder of notes</source>
        <translation>选择笔记文件夹</translation>
    </message>
    <message>
        <location line="+37"/>
        <source>Not indexed yet</source>
        <translation>尚未索引</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Folder not found (unplugged drive?)</source>
        <translation>找不到文件夹（驱动器已拔出？）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 files · %2 chunks · indexed %3</source>
        <translation>%1 个文件 · %2 个片段 · 索引于 %3</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%1 not yet by meaning</source>
        <translation>%1 个尚未语义索引</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 skipped</source>
        <translation>已跳过 %1 个</translation>
    </message>
</context>
<context>
    <name>IndexPanel</name>
    <message>
        <location filename="../../desktop/gui/search/index_panel.py" line="+35"/>
        <source>Index now</source>
        <translation>立即索引</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Sending your notes to the batch service…</source>
        <translation>正在将笔记发送到批量服务…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Cancelled. Index now asks again.</source>
        <translation>已取消。点击“立即索引”会再次询问。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancelled. What was indexed is kept; Index now continues from there.</source>
        <translation>已取消。已索引的内容会保留，点击“立即索引”可从中断处继续。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Batch mode is not available for this model or region (%1). Indexing now instead.</source>
        <translation>此模型或地域不支持批量模式（%1），改为立即索引。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Notes are ready for keyword search. Add your API key in Settings to also search by meaning.</source>
        <translation>笔记已可按关键词搜索。在“设置”中添加 API 密钥后，还可按语义搜索。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Another Qwen Desktop window or the command line is indexing these notes right now. Index now tries again.</source>
        <translation>另一个 Qwen Desktop 窗口或命令行正在为这些笔记建立索引。点“立即索引”可再试一次。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Sent %1 parts in %2 batch jobs (about CNY %3). Results take from minutes to hours; they are imported automatically, also after Qwen Desktop was closed.</source>
        <translation>已通过 %2 个批量任务发送 %1 个片段（约 %3 元）。结果需要几分钟到几小时，届时会自动导入，即使 Qwen Desktop 曾被关闭也一样。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Add your API key in Settings to search by meaning.</source>
        <translation>在“设置”中添加 API 密钥即可按语义搜索。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>What was indexed is kept; Index now continues from there.</source>
        <translation>已索引的内容会保留，点击“立即索引”可从中断处继续。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>%1: %2 files found</source>
        <translation>%1：已找到 %2 个文件</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1: %2 of %3 files</source>
        <translation>%1：%2 / %3 个文件</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1: %2 of %3 parts</source>
        <translation>%1：%2 / %3 个片段</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>service busy, trying again in %1 s</source>
        <translation>服务繁忙，%1 秒后重试</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>less than a minute left</source>
        <translation>剩余不到 1 分钟</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>about %1 min left</source>
        <translation>剩余约 %1 分钟</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>about %1 h %2 min left</source>
        <translation>剩余约 %1 小时 %2 分钟</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Indexed offline with %1 (%2 dimensions). Searches and changed notes use %3, which matches it.</source>
        <translation>已使用 %1（%2 维）离线索引。搜索和修改过的笔记使用与之匹配的 %3。</translation>
    </message>
    <message>
        <location line="+13"/>
        <location line="+26"/>
        <location line="+16"/>
        <location line="+16"/>
        <source>Waiting for your answer…</source>
        <translation>等待您确认…</translation>
    </message>
    <message>
        <location line="-47"/>
        <location line="+13"/>
        <source>Not indexed by meaning yet; keyword search works. Index now asks again.</source>
        <translation>尚未建立语义索引，可使用关键词搜索。点击“立即索引”时会再次询问。</translation>
    </message>
    <message>
        <location line="-9"/>
        <source>Batch mode not available</source>
        <translation>批量模式不可用</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Batch mode is not available for this model or region (%1). Index now instead? That costs about CNY %2, about twice the batch price.</source>
        <translation>此模型或地域不支持批量模式（%1）。要改为立即索引吗？费用约为 %2 元，约为批量价格的两倍。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Notes index damaged</source>
        <translation>笔记索引已损坏</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The index of your notes is damaged and cannot be read. Build it again from your notes files? The files are not touched; the damaged index is kept aside. Indexing by meaning costs tokens again.</source>
        <translation>笔记索引已损坏，无法读取。要根据您的笔记文件重新建立索引吗？笔记文件不会被改动，损坏的索引会另行保留。按语义建立索引需要再次消耗 Token。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The notes index is damaged; Index now offers to build it again.</source>
        <translation>笔记索引已损坏；点“立即索引”可重新建立。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Embedding model changed</source>
        <translation>向量模型已更改</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your notes were indexed with %1 (%2 dimensions); Settings now ask for %3 (%4). Vectors of different models cannot be mixed, so all notes must be indexed again, which costs tokens again. Re-index now?</source>
        <translation>笔记之前使用 %1（%2 维）建立索引，而“设置”中现在选择的是 %3（%4 维）。不同模型的向量无法混用，因此需要重新索引全部笔记，这会再次消耗 Token。是否立即重新索引？</translation>
    </message>
</context>
<context>
    <name>JobsPanel</name>
    <message>
        <location filename="../../desktop/gui/search/jobs.py" line="+39"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Parts</source>
        <translation>片段</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Age</source>
        <translation>已用时间</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Cancel job</source>
        <translation>取消任务</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancel the selected batch job, on the service too</source>
        <translation>取消所选的批量任务（服务端同时取消）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Batch jobs</source>
        <translation>批量任务</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>%1, cancel requested</source>
        <translation>%1，已请求取消</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Batch API</source>
        <translation>批量 API</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>native task</source>
        <translation>原生异步任务</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 of %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 failed</source>
        <translation>%1 个失败</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Job %1 · %2 · %3 · created %4</source>
        <translation>任务 %1 · %2 · %3 · 创建于 %4</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>just now</source>
        <translation>刚刚</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 min</source>
        <translation>%1 分钟</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分钟</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 days</source>
        <translation>%1 天</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Batch results imported: %1 parts.</source>
        <translation>已导入批量结果：%1 个片段。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 results were dropped because their notes changed meanwhile; the new text is indexed again.</source>
        <translation>%1 个结果已丢弃，因为对应的笔记在此期间有改动；新内容会重新索引。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A batch job was cancelled; its notes are indexed the next time you index.</source>
        <translation>批量任务已取消；其中的笔记将在下次索引时处理。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>A batch job ended as “%1”: %2. Its notes are indexed now instead.</source>
        <translation>批量任务以“%1”结束：%2。其中的笔记改为立即索引。</translation>
    </message>
</context>
<context>
    <name>LargeRunDialog</name>
    <message>
        <location filename="../../desktop/gui/search/dialogs.py" line="+71"/>
        <source>Index by meaning</source>
        <translation>按语义索引</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 parts of your notes (about %2 tokens) will be sent to the embedding service (%3). How should they be indexed?</source>
        <translation>您的笔记中有 %1 个片段（约 %2 个 Token）将发送到向量化服务（%3）。要如何索引？</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Batch mode (cheaper, may take from minutes to hours)</source>
        <translation>批量模式（更便宜，可能需要几分钟到几小时）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Batch mode (may take from minutes to hours)</source>
        <translation>批量模式（可能需要几分钟到几小时）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1: about CNY %2</source>
        <translation>%1：约 %2 元</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Now: about CNY %1</source>
        <translation>立即索引：约 %1 元</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Not now</source>
        <translation>以后再说</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Batch jobs keep running when Qwen Desktop is closed; their results are imported the next time it starts. Keyword search works meanwhile.</source>
        <translation>关闭 Qwen Desktop 后批量任务仍会继续运行，结果将在下次启动时导入。在此期间关键词搜索照常可用。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/gui/main_window.py" line="+65"/>
        <source>Chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>Something went wrong in the background. The log file in the data folder has the details.</source>
        <translation>后台出了问题。详细信息在数据文件夹的日志文件中。</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>(it could not be moved)</source>
        <translation>（无法移动该文件）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Conversation history damaged</source>
        <translation>对话记录已损坏</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Your conversation history could not be read because its file is damaged. Qwen Desktop set the file aside and started a new, empty history; new conversations are saved as usual. The old ones may still be recovered from the damaged file.</source>
        <translation>对话记录文件已损坏，无法读取。Qwen Desktop 已将该文件另行保留，并开始一份新的空白记录；新的对话照常保存。旧的对话或许仍可从损坏的文件中恢复。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Your settings file was damaged. Qwen Desktop is using the settings it last saved, so nothing should be missing.</source>
        <translation>您的设置文件已损坏。Qwen Desktop 正在使用上次保存的设置，应当没有任何丢失。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Your settings file was damaged and no earlier copy was found, so Qwen Desktop started with default settings. Your conversations and the index of your notes are kept; add your notes folders again in the Search tab.</source>
        <translation>您的设置文件已损坏，且找不到更早的副本，因此 Qwen Desktop 以默认设置启动。您的对话和笔记索引均已保留；请在“搜索”页重新添加笔记文件夹。</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>Settings recovered</source>
        <translation>设置已恢复</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>The damaged file was kept as: %1</source>
        <translation>损坏的文件已保存为：%1</translation>
    </message>
</context>
<context>
    <name>MarkdownBody</name>
    <message>
        <location filename="../../desktop/gui/chat/markdown_view.py" line="+223"/>
        <source>%1 more lines are not shown here; Copy copies them all.</source>
        <translation>此处另有 %1 行未显示；“复制”会复制全部内容。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 more rows are not shown here; Copy copies them all.</source>
        <translation>此处另有 %1 行表格未显示；“复制”会复制全部内容。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>… (%1 more characters; Copy copies them all)</source>
        <translation>…（另有 %1 个字符；“复制”会复制全部内容）</translation>
    </message>
</context>
<context>
    <name>MessageEditor</name>
    <message>
        <location filename="../../desktop/gui/chat/parts.py" line="+36"/>
        <source>Enter sends, Shift+Enter starts a new line, Esc cancels</source>
        <translation>按 Enter 发送，Shift+Enter 换行，Esc 取消</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Sending replaces the message after this question with a new answer (Undo brings it back).</source>
        <translation>发送后，这个问题之后的那条消息将被新的回答替换（可点“撤销”恢复）。</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>Sending replaces the %n messages after this question with a new answer (Undo brings them back).</source>
        <translation>
            <numerusform>发送后，这个问题之后的 %n 条消息将被新的回答替换（可点“撤销”恢复）。</numerusform>
        </translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Send the changed question; the messages after it are removed</source>
        <translation>发送修改后的问题；其后的消息将被删除</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>MessageWidget</name>
    <message>
        <location filename="../../desktop/gui/chat/messages.py" line="+247"/>
        <source>You</source>
        <translation>我</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Qwen</source>
        <translation>通义千问</translation>
    </message>
    <message>
        <location line="-129"/>
        <location line="+94"/>
        <location line="+4"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location line="-98"/>
        <source>Copy this message</source>
        <translation>复制这条消息</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Copy this answer as text that reads well anywhere: no Markdown marks, tables as tab-separated rows. The arrow beside it copies the Markdown.</source>
        <translation>将这条回答复制为在任何地方都易读的文本：不含 Markdown 标记，表格为以制表符分隔的行。旁边的箭头可复制 Markdown 原文。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Copy as Markdown</source>
        <translation>复制为 Markdown</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copy the Markdown source of this answer</source>
        <translation>复制这条回答的 Markdown 原文</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Change this question and ask again; the messages after it are removed</source>
        <translation>修改这个问题并重新提问；其后的消息将被删除</translation>
    </message>
    <message>
        <location line="+4"/>
        <location line="+80"/>
        <source>Copy for Word</source>
        <translation>复制到 Word</translation>
    </message>
    <message>
        <location line="-79"/>
        <source>Copy as rich text: headings, lists, tables and code keep their form in Word or WPS</source>
        <translation>以富文本复制：标题、列表、表格和代码在 Word 或 WPS 中保持原有格式</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Ask for a new answer</source>
        <translation>重新生成回答</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Waiting for Qwen…</source>
        <translation>正在等待通义千问…</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Web sources</source>
        <translation>网页来源</translation>
    </message>
    <message>
        <location line="+8"/>
        <location line="+4"/>
        <location line="+5"/>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>edited</source>
        <translation>已编辑</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Edited %1</source>
        <translation>编辑于 %1</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>The model accepts at most %1 tokens, so the request was sent again, shorter.</source>
        <translation>该模型最多接受 %1 个 Token，因此已缩短请求并重新发送。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>1 earlier message was left out to fit the model&apos;s context.</source>
        <translation>为适应模型的上下文长度，省略了较早的 1 条消息。</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n earlier messages were left out to fit the model&apos;s context.</source>
        <translation>
            <numerusform>为适应模型的上下文长度，省略了较早的 %n 条消息。</numerusform>
        </translation>
    </message>
    <message>
        <location line="+3"/>
        <source>1 relevant note excerpt did not fit into the model&apos;s context and was left out.</source>
        <translation>有 1 段相关笔记超出了模型的上下文长度，未被发送。</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n relevant note excerpts did not fit into the model&apos;s context and were left out.</source>
        <translation>
            <numerusform>有 %n 段相关笔记超出了模型的上下文长度，未被发送。</numerusform>
        </translation>
    </message>
    <message>
        <location line="+12"/>
        <location line="+26"/>
        <source>Could not open %1.</source>
        <translation>无法打开 %1。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Searching your notes…</source>
        <translation>正在搜索你的笔记…</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>%1 Retrying in %2 s…</source>
        <translation>%1 %2 秒后重试…</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>%1 in</source>
        <translation>输入 %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 out</source>
        <translation>输出 %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 thinking</source>
        <translation>思考 %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tokens: %1</source>
        <translation>Token：%1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>1 web search</source>
        <translation>1 次联网搜索</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%n web searches</source>
        <translation>
            <numerusform>%n 次联网搜索</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>about %1</source>
        <translation>约 %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Estimated cost from the price table (prices.json in the data folder)</source>
        <translation>根据价格表（数据文件夹中的 prices.json）估算的费用</translation>
    </message>
    <message>
        <location line="+23"/>
        <location line="+24"/>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <location line="-23"/>
        <source>The reply was cut off before it finished.</source>
        <translation>回复在完成前中断了。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The reply reached the model&apos;s length limit.</source>
        <translation>回复已达到模型的长度上限。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Nothing in your notes seems to be about this, so Qwen was not asked. Try other words, check that the folder with the answer is indexed, or turn off &quot;Use my notes&quot;.</source>
        <translation>你的笔记中似乎没有与此相关的内容，因此没有询问通义千问。请换个说法，确认包含答案的文件夹已建立索引，或关闭“使用我的笔记”。</translation>
    </message>
</context>
<context>
    <name>ModelPicker</name>
    <message>
        <location filename="../../desktop/gui/chat/model_picker.py" line="+44"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Balanced quality and price, for most work</source>
        <translation>质量与价格均衡，适合大多数工作</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Strong on complex tasks; slower and dearer</source>
        <translation>擅长复杂任务；较慢，价格较高</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The most capable; the highest price</source>
        <translation>能力最强；价格最高</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fastest and cheapest, for simple tasks</source>
        <translation>最快最便宜，适合简单任务</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fast and cheap (older; Flash replaces it)</source>
        <translation>快速且便宜（较旧；由 Flash 取代）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reasons step by step: maths, logic, code</source>
        <translation>逐步推理：数学、逻辑、代码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>For very long documents</source>
        <translation>适合超长文档</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>always thinks first</source>
        <translation>总是先思考</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>answers without deep thinking</source>
        <translation>不进行深度思考，直接回答</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>can think first (Deep thinking)</source>
        <translation>可先思考（深度思考）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>no price in prices.json</source>
        <translation>prices.json 中没有价格</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 in, %2 out per million tokens</source>
        <translation>每百万 Token：输入 %1，输出 %2</translation>
    </message>
    <message>
        <location line="+3"/>
        <source> (%1 out when thinking)</source>
        <translation>（思考时输出 %1）</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>More models: Settings → Model → Refresh list</source>
        <translation>更多模型：设置 → 模型 → 刷新列表</translation>
    </message>
</context>
<context>
    <name>Notes</name>
    <message>
        <location filename="../../desktop/core/notes/index_records.py" line="+31"/>
        <source>Looking for notes</source>
        <translation>正在查找笔记</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reading notes</source>
        <translation>正在读取笔记</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Indexing by meaning</source>
        <translation>正在建立语义索引</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Up to date</source>
        <translation>已是最新</translation>
    </message>
    <message>
        <location filename="../../desktop/core/notes/reader.py" line="+61"/>
        <source>Hidden folder</source>
        <translation>隐藏文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Program, build or cache folder</source>
        <translation>程序、构建或缓存文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Link back to a folder already included</source>
        <translation>指回已包含文件夹的链接</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Larger than the size limit in Settings</source>
        <translation>超过“设置”中的大小上限</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Not a text file</source>
        <translation>不是文本文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Could not be read</source>
        <translation>无法读取</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Contains no text (a scanned PDF?)</source>
        <translation>不含文字（可能是扫描版 PDF？）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This file type is not supported</source>
        <translation>不支持此文件类型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The file name is not in UTF-8: rename it to include it</source>
        <translation>文件名不是 UTF-8 编码：重命名后才能收录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Not a regular file (a pipe or a device)</source>
        <translation>不是普通文件（管道或设备）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reading it took too long (a slow or stuck drive?)</source>
        <translation>读取时间过长（驱动器或网络共享缓慢或无响应？）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Link leads outside your notes folders</source>
        <translation>链接指向笔记文件夹之外</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Too large when unpacked</source>
        <translation>解压后过大</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Only repeated characters or encoded data (nothing to search by meaning)</source>
        <translation>只有重复字符或编码数据（没有可按语义搜索的内容）</translation>
    </message>
    <message>
        <location filename="../../desktop/core/notes/jobs.py" line="+51"/>
        <source>Sending</source>
        <translation>正在发送</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Waiting in the queue</source>
        <translation>排队中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Finishing</source>
        <translation>即将完成</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Done, importing</source>
        <translation>已完成，正在导入</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Expired</source>
        <translation>已过期</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancelling</source>
        <translation>正在取消</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Imported</source>
        <translation>已导入</translation>
    </message>
</context>
<context>
    <name>NotesOptionsBox</name>
    <message>
        <location filename="../../desktop/gui/settings/notes_box.py" line="+20"/>
        <source>Notes</source>
        <translation>笔记</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Rank the notes found for a question with a rerank model</source>
        <translation>用重排序模型为问题找到的笔记排序</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Answers then cite the notes that answer the question best, not only those with the most words in common. It costs a little per question (counted in the cost); if it fails, the usual order is used.</source>
        <translation>回答将引用最能回答问题的笔记，而不只是字词重合最多的笔记。每个问题会产生少量费用（计入费用统计）；重排序失败时使用通常的顺序。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Rerank model</source>
        <translation>重排序模型</translation>
    </message>
</context>
<context>
    <name>QFileDialog</name>
    <message>
        <location filename="../../desktop/gui/common/i18n.py" line="+20"/>
        <source>&amp;Look in:</source>
        <translation>查找范围(&amp;L)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Files of &amp;type:</source>
        <translation>文件类型(&amp;T)：</translation>
    </message>
</context>
<context>
    <name>Regions</name>
    <message>
        <location filename="../../desktop/core/regions.py" line="+33"/>
        <source>China (Beijing)</source>
        <translation>华北2（北京）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Singapore (International)</source>
        <translation>新加坡（国际）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>US (Virginia)</source>
        <translation>美国（弗吉尼亚）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>China (Hong Kong)</source>
        <translation>中国香港</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Custom URL</source>
        <translation>自定义 URL</translation>
    </message>
</context>
<context>
    <name>ResultsPanel</name>
    <message>
        <location filename="../../desktop/gui/search/results.py" line="+36"/>
        <source>Search your notes by meaning or exact words…</source>
        <translation>按语义或关键词搜索笔记…</translation>
    </message>
    <message>
        <location line="+8"/>
        <location line="+154"/>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <location line="-153"/>
        <location line="+154"/>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <location line="-153"/>
        <location line="+154"/>
        <source>Copy path</source>
        <translation>复制路径</translation>
    </message>
    <message>
        <location line="-151"/>
        <source>Ask Qwen about these results</source>
        <translation>就这些结果询问通义千问</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ask a question about the search in a new chat, answered from your notes with sources</source>
        <translation>在新对话中就这次搜索提问，根据你的笔记回答并列出来源</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Best match first</source>
        <translation>最佳匹配优先</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reorder the best results with a rerank model (needs your API key; costs a little per search)</source>
        <translation>用重排序模型重新排列最靠前的结果（需要 API 密钥；每次搜索产生少量费用）</translation>
    </message>
    <message>
        <location line="+60"/>
        <source>Type a few words to find notes by meaning, or an exact term such as an error code. Results appear as you type.</source>
        <translation>输入几个词即可按含义查找笔记，也可以输入错误代码等精确词语。结果会随输入即时显示。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Add a folder of notes on the left. Qwen Desktop reads it, keeps it up to date, and finds notes by meaning.</source>
        <translation>请在左侧添加笔记文件夹。Qwen Desktop 会读取并自动保持更新，按含义查找笔记。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Keyword search only: add your API key in Settings to search by meaning.</source>
        <translation>仅关键词搜索：在“设置”中添加 API 密钥即可按语义搜索。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Keyword search only: %1</source>
        <translation>仅关键词搜索：%1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Keyword search only: your notes are not indexed by meaning yet.</source>
        <translation>仅关键词搜索：笔记尚未建立语义索引。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Best match first could not be used just now; the results are in the usual order.</source>
        <translation>暂时无法使用“最佳匹配优先”，结果按通常的顺序排列。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No note contains “%1” exactly.</source>
        <translation>没有笔记完全包含“%1”。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No note contains “%1” exactly; these are the closest matches.</source>
        <translation>没有笔记完全包含“%1”；以下是最接近的结果。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No note contains “%1” exactly; these are the closest by meaning.</source>
        <translation>没有笔记完全包含“%1”；以下是意思最接近的笔记。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>No results.</source>
        <translation>未找到结果。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>line %1</source>
        <translation>第 %1 行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>lines %1</source>
        <translation>第 %1 行</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>exact match</source>
        <translation>完全匹配</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1% similar in meaning</source>
        <translation>意思相似度 %1%</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>Could not open %1: no app on this computer opened it.</source>
        <translation>无法打开 %1：这台电脑上没有应用打开它。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Could not show %1 in its folder.</source>
        <translation>无法在文件夹中显示 %1。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>This file is no longer there: %1</source>
        <translation>此文件已不在原处：%1</translation>
    </message>
</context>
<context>
    <name>SearchTab</name>
    <message>
        <location filename="../../desktop/gui/search/tab.py" line="+348"/>
        <location line="+44"/>
        <source>Add your API key in Settings to check on the batch jobs.</source>
        <translation>请在“设置”中添加 API 密钥，以便查看批量任务。</translation>
    </message>
    <message>
        <location line="-36"/>
        <source>Could not check on the batch jobs: %1</source>
        <translation>无法查看批量任务：%1</translation>
    </message>
    <message>
        <location line="-159"/>
        <source>This is not a folder: %1</source>
        <translation>这不是文件夹：%1</translation>
    </message>
    <message>
        <location line="+181"/>
        <source>Cancelling the batch job…</source>
        <translation>正在取消批量任务…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The batch job is being cancelled. Its notes are indexed again the next time you index.</source>
        <translation>正在取消批量任务。其中的笔记将在下次索引时重新处理。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The service could not cancel this job (%1). It goes on; its results will be imported.</source>
        <translation>服务无法取消此任务（%1）。任务将继续运行，结果会照常导入。</translation>
    </message>
</context>
<context>
    <name>SettingsTab</name>
    <message>
        <location filename="../../desktop/gui/settings/tab.py" line="+83"/>
        <source>&lt;b&gt;Welcome to Qwen Desktop.&lt;/b&gt; To chat with Qwen you need a DashScope API key. Create one in the &lt;a href=&quot;%1&quot;&gt;Model Studio console&lt;/a&gt; (international accounts: &lt;a href=&quot;%2&quot;&gt;Alibaba Cloud Model Studio&lt;/a&gt;), paste it below and press Save.</source>
        <translation>&lt;b&gt;欢迎使用 Qwen Desktop。&lt;/b&gt;与通义千问对话需要 DashScope API 密钥。请在&lt;a href=&quot;%1&quot;&gt;百炼控制台&lt;/a&gt;创建密钥（国际站账号请前往 &lt;a href=&quot;%2&quot;&gt;Alibaba Cloud Model Studio&lt;/a&gt;），粘贴到下方并点击“保存”。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Paste your API key (sk-…)</source>
        <translation>粘贴 API 密钥（sk-…）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete key</source>
        <translation>删除密钥</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Use for this session only</source>
        <translation>仅本次运行使用</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Use system settings</source>
        <translation>使用系统设置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No proxy</source>
        <translation>不使用代理</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Manual</source>
        <translation>手动设置</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Forget password</source>
        <translation>删除密码</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Test connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Connection</source>
        <translation>连接</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Region</source>
        <translation>地域</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Custom URL</source>
        <translation>自定义 URL</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Proxy</source>
        <translation>代理</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Proxy address</source>
        <translation>代理地址</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Proxy password</source>
        <translation>代理密码</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Refresh list</source>
        <translation>刷新列表</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Deep thinking on by default (models that support it)</source>
        <translation>默认开启深度思考（仅限支持的模型）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Web search on in new chats (models that can search)</source>
        <translation>新对话默认开启联网搜索（支持搜索的模型）</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+2"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>System language</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Language changes apply after restarting the app.</source>
        <translation>更改语言后需重启应用才能生效。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Restart now</source>
        <translation>立即重启</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location line="+105"/>
        <source>DASHSCOPE_BASE_URL is set in the environment and is used instead: %1</source>
        <translation>环境变量中已设置 DASHSCOPE_BASE_URL，将改用：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/gui/settings/parts.py" line="+149"/>
        <location filename="../../desktop/gui/settings/tab.py" line="+3"/>
        <source>Will use: %1</source>
        <translation>将使用：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/gui/settings/tab.py" line="+11"/>
        <source>Saved (type to replace)</source>
        <translation>已保存（输入新密码可替换）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>If the proxy asks for one</source>
        <translation>代理需要时填写</translation>
    </message>
    <message>
        <location line="+43"/>
        <source>The temperature goes from 0 to 2.</source>
        <translation>温度的取值范围是 0 到 2。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The temperature goes from 0 to 2: %1 was set to %2.</source>
        <translation>温度的取值范围是 0 到 2：%1 已改为 %2。</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Proxy password saved in the system keyring.</source>
        <translation>代理密码已保存到系统密钥环。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No system keyring is available, so the proxy password is used for this session only; it is not written to disk.</source>
        <translation>没有可用的系统密钥环，代理密码仅在本次会话中使用，不会写入磁盘。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Proxy password deleted.</source>
        <translation>代理密码已删除。</translation>
    </message>
    <message>
        <location filename="../../desktop/gui/settings/key.py" line="+85"/>
        <source>No API key is set.</source>
        <translation>尚未设置 API 密钥。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Using the key from the DASHSCOPE_API_KEY environment variable (%1). It takes precedence over a saved key.</source>
        <translation>正在使用环境变量 DASHSCOPE_API_KEY 中的密钥（%1），它优先于已保存的密钥。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Using %1 for this session only; it will be forgotten when the app closes.</source>
        <translation>仅在本次运行中使用 %1，关闭应用后即清除。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Saved in the system keyring (%1).</source>
        <translation>已保存到系统凭据存储（%1）。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Paste a key first.</source>
        <translation>请先粘贴密钥。</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>No system keyring is available, so the key cannot be stored safely. You can use it for this session only; it will not be written to disk.</source>
        <translation>系统凭据存储不可用，无法安全保存密钥。您可以仅在本次运行中使用它，密钥不会写入磁盘。</translation>
    </message>
    <message>
        <location filename="../../desktop/gui/settings/tab.py" line="+67"/>
        <source>Enter the service address (it starts with https://).</source>
        <translation>请输入服务地址（以 https:// 开头）。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Testing…</source>
        <translation>正在测试…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Connected. 1 chat model available.</source>
        <translation>连接成功，有 1 个对话模型可用。</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>Connected. %n chat models available.</source>
        <translation>
            <numerusform>连接成功，有 %n 个对话模型可用。</numerusform>
        </translation>
    </message>
    <message>
        <location line="+8"/>
        <source>This key belongs to the region %1. Choose that region above.</source>
        <translation>此密钥属于“%1”地域，请在上方选择该地域。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Refreshing…</source>
        <translation>正在刷新…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>1 model</source>
        <translation>1 个模型</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%n models</source>
        <translation>
            <numerusform>%n 个模型</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../desktop/gui/settings/parts.py" line="-129"/>
        <source>No API key is set. Paste your DashScope API key into the API key field and press Save.</source>
        <translation>尚未设置 API 密钥。请把您的 DashScope API 密钥粘贴到 API 密钥框中，然后点击“保存”。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The API key was not accepted. Check that it is copied completely and that the region chosen here matches the region where the key was created.</source>
        <translation>API 密钥未通过验证。请检查密钥是否复制完整，并确认这里选择的地域与创建该密钥时所选的地域一致。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Your account may not use this model. Activate it in the Model Studio console or choose another model.</source>
        <translation>您的账号无权使用此模型。请在百炼控制台开通该模型，或选择其他模型。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This model does not exist or is not available in this region. Choose another model (model names are case-sensitive).</source>
        <translation>此模型不存在，或在当前地域不可用。请选择其他模型（模型名称区分大小写）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Could not connect through the proxy. Check the proxy address and password.</source>
        <translation>无法通过代理连接。请检查代理地址和密码。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The service address sent the request on to another address. Qwen Desktop does not follow it, so your API key is not sent there. If you set a custom URL, check it.</source>
        <translation>服务地址把请求转到了另一个地址。Qwen Desktop 不会跟随转向，因此您的 API 密钥不会被发送到那里。如果设置了自定义 URL，请检查它。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The service address is not a valid URL. Check the custom URL: it starts with https:// and names a host.</source>
        <translation>服务地址不是有效的 URL。请检查自定义 URL：它以 https:// 开头，并包含主机名。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The address was not found. If you set a custom URL, check it.</source>
        <translation>找不到该地址。如果设置了自定义 URL，请检查它。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The notes index was built with another embedding model or size. Index the notes again to search them with the model chosen now.</source>
        <translation>笔记索引是用另一个向量模型或维度建立的。请重新索引笔记，才能用现在选择的模型搜索。</translation>
    </message>
    <message>
        <location line="+85"/>
        <source>Type the proxy address, for example proxy.corp:8080.</source>
        <translation>请输入代理地址，例如 proxy.corp:8080。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A proxy address has no spaces: type it as host:port, for example proxy.corp:8080.</source>
        <translation>代理地址不能包含空格：请按“主机:端口”输入，例如 proxy.corp:8080。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A proxy address starts with http://, https:// or socks5://, or with the host alone (proxy.corp:8080 means http).</source>
        <translation>代理地址应以 http://、https:// 或 socks5:// 开头，也可以只写主机（proxy.corp:8080 即为 http）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The address names no computer: type it as host:port, for example proxy.corp:8080.</source>
        <translation>地址中没有主机名：请按“主机:端口”输入，例如 proxy.corp:8080。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The port must be a number from 1 to 65535, for example proxy.corp:8080.</source>
        <translation>端口必须是 1 到 65535 之间的数字，例如 proxy.corp:8080。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/secrets.py" line="+188"/>
        <source>This computer has no system keyring that Qwen Desktop can use, so the key cannot be saved and must be pasted at each start.</source>
        <translation>这台电脑没有 Qwen Desktop 可用的系统钥匙串，因此无法保存密钥，每次启动都需要重新粘贴。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Install and unlock GNOME Keyring (package gnome-keyring) or KWallet, then restart Qwen Desktop.</source>
        <translation>请安装并解锁 GNOME Keyring（软件包 gnome-keyring）或 KWallet，然后重新启动 Qwen Desktop。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Windows Credential Manager did not answer; restart Windows.</source>
        <translation>Windows 凭据管理器没有响应；请重新启动 Windows。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The macOS Keychain did not answer; log out and log in again.</source>
        <translation>macOS 钥匙串没有响应；请注销后重新登录。</translation>
    </message>
</context>
<context>
    <name>SkippedDialog</name>
    <message>
        <location filename="../../desktop/gui/search/dialogs.py" line="-48"/>
        <source>Skipped in %1</source>
        <translation>%1 中跳过的文件</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>File or folder</source>
        <translation>文件或文件夹</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Nothing was skipped.</source>
        <translation>没有跳过任何文件。</translation>
    </message>
</context>
<context>
    <name>SourcesView</name>
    <message>
        <location filename="../../desktop/gui/chat/sources.py" line="+32"/>
        <source>Sources</source>
        <translation>来源</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Open %1</source>
        <translation>打开 %1</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>line %1</source>
        <translation>第 %1 行</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>lines %1</source>
        <translation>第 %1 行</translation>
    </message>
</context>
<context>
    <name>ThinkingSection</name>
    <message>
        <location filename="../../desktop/gui/chat/parts.py" line="-99"/>
        <source>Thinking…</source>
        <translation>正在思考…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Thought for 1 second</source>
        <translation>已思考 1 秒</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>Thought for %n seconds</source>
        <translation>
            <numerusform>已思考 %n 秒</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Thinking</source>
        <translation>思考过程</translation>
    </message>
</context>
<context>
    <name>UndoNotice</name>
    <message>
        <location line="+128"/>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Put the question and the messages after it back as they were</source>
        <translation>把问题及其后的消息恢复原样</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>The question was changed.</source>
        <translation>问题已修改。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The edit replaced the message after the question.</source>
        <translation>修改替换了问题之后的那条消息。</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>The edit replaced the %n messages after the question.</source>
        <translation>
            <numerusform>修改替换了问题之后的 %n 条消息。</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>WebSourcesView</name>
    <message>
        <location filename="../../desktop/gui/chat/sources.py" line="+37"/>
        <source>Web sources</source>
        <translation>网页来源</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Open %1 in the browser</source>
        <translation>在浏览器中打开 %1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Only web pages (http, https) open from here.</source>
        <translation>这里只能打开网页（http、https）。</translation>
    </message>
</context>
</TS>
