-- HR database (SQL Server), as SSMS "Script Table as CREATE" writes it
USE [HumanResources]
GO
SET ANSI_NULLS ON
GO
CREATE TABLE [dbo].[Departments](
	[DepartmentID] [smallint] IDENTITY(1,1) NOT NULL,
	[Name] [nvarchar](50) NOT NULL,
	[GroupName] [nvarchar](50) NOT NULL,
	[ModifiedDate] [datetime] NOT NULL CONSTRAINT [DF_Departments_ModifiedDate] DEFAULT (getdate()),
 CONSTRAINT [PK_Departments] PRIMARY KEY CLUSTERED ([DepartmentID] ASC)
) ON [PRIMARY]
GO
CREATE TABLE [dbo].[Employees](
	[EmployeeID] [int] IDENTITY(100,1) NOT NULL,
	[NationalIDNumber] [nvarchar](15) NOT NULL,
	[First Name] [nvarchar](50) NOT NULL,
	[LastName] [nvarchar](50) NOT NULL,
	[ManagerID] [int] NULL,
	[DepartmentID] [smallint] NOT NULL,
	[JobTitle] [nvarchar](50) NOT NULL,
	[BirthDate] [date] NOT NULL,
	[Gender] [nchar](1) NOT NULL,
	[HireDate] [date] NOT NULL,
	[SalariedFlag] [bit] NOT NULL DEFAULT ((1)),
	[VacationHours] [smallint] NOT NULL,
	[rowguid] [uniqueidentifier] ROWGUIDCOL NOT NULL DEFAULT (newid()),
	[ModifiedDate] [datetime2](7) NOT NULL,
 CONSTRAINT [PK_Employees] PRIMARY KEY CLUSTERED ([EmployeeID] ASC),
 CONSTRAINT [AK_Employees_NationalID] UNIQUE NONCLUSTERED ([NationalIDNumber] ASC),
 CONSTRAINT [CK_Employees_Gender] CHECK ([Gender] IN ('M', 'F')),
 CONSTRAINT [CK_Employees_VacationHours] CHECK ([VacationHours] >= (-40) AND [VacationHours] <= (240))
) ON [PRIMARY]
GO
CREATE TABLE [dbo].[EmployeePayHistory](
	[EmployeeID] [int] NOT NULL,
	[RateChangeDate] [datetime] NOT NULL,
	[Rate] [money] NOT NULL,
	[PayFrequency] [tinyint] NOT NULL,
 CONSTRAINT [PK_EmployeePayHistory] PRIMARY KEY CLUSTERED ([EmployeeID] ASC, [RateChangeDate] ASC)
) ON [PRIMARY]
GO
ALTER TABLE [dbo].[Employees] WITH CHECK ADD CONSTRAINT [FK_Employees_Manager] FOREIGN KEY([ManagerID])
REFERENCES [dbo].[Employees] ([EmployeeID])
GO
ALTER TABLE [dbo].[Employees] WITH CHECK ADD CONSTRAINT [FK_Employees_Departments] FOREIGN KEY([DepartmentID])
REFERENCES [dbo].[Departments] ([DepartmentID])
GO
ALTER TABLE [dbo].[EmployeePayHistory] ADD CONSTRAINT [FK_PayHistory_Employees] FOREIGN KEY([EmployeeID])
REFERENCES [dbo].[Employees] ([EmployeeID])
GO
ALTER TABLE [dbo].[EmployeePayHistory] WITH CHECK ADD CONSTRAINT [CK_PayHistory_Frequency] CHECK (([PayFrequency]=(1) OR [PayFrequency]=(2)))
GO
GRANT SELECT ON [dbo].[Employees] TO [reporting]
GO
